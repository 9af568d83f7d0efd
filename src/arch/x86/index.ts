export { createDecoder, Flow, Operand, RegisterClass, newOperandView } from './decoder.js';
export type { FlowKind, OperandKind, OperandView, X86Decoder } from './decoder.js';
