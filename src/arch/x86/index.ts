export { createDecoder, Flow } from './decoder.js';
export type { FlowKind, X86Decoder } from './decoder.js';
