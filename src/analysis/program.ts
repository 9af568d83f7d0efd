/**
 * The result of code recovery. Instructions, basic blocks, CFG edges and call sites of all
 * functions live in flat program-wide typed arrays; a `FunctionInfo` names its ranges in them.
 * (One small object per function; none per block, edge or instruction.)
 *
 * Layout: each function's instructions are contiguous and ascending by address; its blocks are
 * contiguous and ascending by start; block `b` holds instructions
 * `[blockFirstInsn[b], blockFirstInsn[b + 1])` (the array has one extra final entry); its edges
 * are contiguous and sorted by `edgeFrom`; its call sites are contiguous and ascending.
 * Block and instruction indices in these arrays are global (program-wide).
 */

import type { Image, ImportEntry } from '../format/image.js';

export interface Program {
  readonly image: Image;
  readonly bitness: 32 | 64;
  /** Recovered functions, sorted by address. */
  readonly functions: readonly FunctionInfo[];
  /** The function starting at `va`, if any. */
  functionAt(va: number): FunctionInfo | undefined;
  /** Imports by IAT slot VA. */
  readonly importsByIat: ReadonlyMap<number, ImportEntry>;
  /** Thunk function start (`jmp [IAT]`) → the import it jumps to. */
  readonly thunks: ReadonlyMap<number, ImportEntry>;
  /** Total instructions decoded (= `insnAddress.length`). */
  readonly instructionCount: number;
  /** A work bound (functions or instructions) was hit; the result is partial. */
  readonly truncated: boolean;

  /** Instruction VAs. */
  readonly insnAddress: Float64Array;
  /** Instruction lengths, parallel to `insnAddress`. */
  readonly insnLength: Uint8Array;

  /** Block start VAs. */
  readonly blockStart: Float64Array;
  /** Block end VAs (exclusive: the end of the block's last instruction). */
  readonly blockEnd: Float64Array;
  /** How control leaves each block: the `Flow` of its last instruction. */
  readonly blockExitFlow: Uint8Array;
  /** The direct target of a block's last instruction when it is a jmp or jcc, else -1. */
  readonly blockExitTarget: Float64Array;
  /** First instruction of each block; one more entry than there are blocks. */
  readonly blockFirstInsn: Uint32Array;

  /** CFG edges between blocks of the same function (global block indices). */
  readonly edgeFrom: Uint32Array;
  readonly edgeTo: Uint32Array;

  /** VA of each call instruction. */
  readonly callFrom: Float64Array;
  /** Direct call target VA, or -1 for indirect calls. */
  readonly callTo: Float64Array;
  /** For `call [mem]` through an IAT slot, that slot's VA (see `importsByIat`), else -1. */
  readonly callIat: Float64Array;
}

/**
 * Why a function was found: entry point, export, TLS callback, code pointer in data, call target,
 * x64 exception-directory entry, SafeSEH handler (i386), code address referenced by an instruction or a relocated pointer
 * in code that looks like a function, function-entry byte signature (i386).
 */
export type FunctionSource =
  'entry' | 'export' | 'tls' | 'pointer' | 'call' | 'pdata' | 'seh' | 'reference' | 'signature';

export interface FunctionInfo {
  readonly address: number;
  readonly source: FunctionSource;
  /** The import this function forwards to when it is a `jmp [IAT]` thunk, else null. */
  readonly thunk: ImportEntry | null;
  /** Range `[firstInsn, firstInsn + insnCount)` of `Program.insnAddress`. */
  readonly firstInsn: number;
  readonly insnCount: number;
  /** Range of the block arrays. */
  readonly firstBlock: number;
  readonly blockCount: number;
  /** Global index of the block starting at `address` (code may lie below the start). */
  readonly entryBlock: number;
  /** Range of `edgeFrom` / `edgeTo`. */
  readonly firstEdge: number;
  readonly edgeCount: number;
  /** Range of `callFrom` / `callTo` / `callIat`. */
  readonly firstCall: number;
  readonly callCount: number;
}
