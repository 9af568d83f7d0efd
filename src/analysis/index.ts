export { analyze, codeBytes } from './analyze.js';
export type { AnalysisOptions } from './analyze.js';
export type { FunctionInfo, FunctionSource, Program } from './program.js';
