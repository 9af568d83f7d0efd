/**
 * Code recovery by recursive descent: `Image` → `Program`.
 *
 * Functions are seeded from the entry point, TLS callbacks, exports, x64 `.pdata` entries and
 * i386 SafeSEH handlers, then grow with the targets of direct calls. Inside a function both sides
 * of a conditional branch and the targets of direct jumps are followed (a jump to a known
 * function start is a tail call and is not); decoding stops at ret, indirect jmp, int3,
 * exceptions and invalid bytes. Calls do not end basic blocks (as in vivisect).
 *
 * When that code flow is exhausted, more starts are tried one at a time, in the order of
 * vivisect's PE analysis passes (each new function's code flow completes before the next try):
 * relocated pointers (in data: taken; in code: if the target looks like a function), pointers
 * read through instruction memory operands, code addresses in immediate operands (`push offset
 * fn`, `mov reg, offset fn`: vivisect's `emucode`), and in 32-bit code the function-entry byte
 * signatures of vivisect's `funcentries` in bytes no instruction covers. All work is bounded.
 */

import { createDecoder, Flow, type X86Decoder } from '../arch/x86/index.js';
import type { Image, ImportEntry, MemoryView, Section } from '../format/image.js';
import { matchesEntrySignature, pdataFunctionStarts, safeSehHandlers } from './discovery.js';
import type { FunctionInfo, FunctionSource, Program } from './program.js';

export interface AnalysisOptions {
  /** Most functions to recover (default 100 000). */
  readonly maxFunctions?: number;
  /** Most instructions to decode over the whole program (default 20 000 000). */
  readonly maxInstructions?: number;
  /** Most instructions in one function (default 500 000). */
  readonly maxFunctionInstructions?: number;
  /** Largest code section mapped for decoding, in bytes (default 64 MiB). */
  readonly maxSectionBytes?: number;
  /**
   * Also start functions at code addresses stored in relocated pointers outside executable
   * sections (function-pointer tables, vtables, callbacks; default true). With
   * `codeReferences`, also at targets of relocated pointers stored in code sections (outside any
   * instruction) that look like functions.
   */
  readonly dataPointers?: boolean;
  /**
   * Also start functions where vivisect's PE analysis does beyond code flow (default true): code
   * addresses in instruction operands and relocated pointers in code that decode like a function
   * (vivisect's `emucode` and pointer following), x64 `.pdata` entries, and in 32-bit code the
   * function-entry byte signatures of `funcentries` in bytes no function covers.
   */
  readonly codeReferences?: boolean;
}

/** Most instructions walked when testing whether an address looks like a function. */
const MAX_PROBE_INSTRUCTIONS = 1024;

const MAX_CODE_SECTIONS = 96;

/** Bytes of a section that may hold code: those mapped from the file. */
export function codeBytes(s: Section): number {
  return Math.max(0, Math.min(s.virtualSize, s.rawSize));
}
/** Most cases read from one jump table. */
const MAX_JUMP_TABLE = 4096;

interface Region {
  readonly start: number;
  readonly end: number;
  readonly bytes: Uint8Array;
  decoder: X86Decoder | null;
  /** Per byte: scratch index of the instruction decoded there in the current function, or -1. */
  idx: Int32Array | null;
  /** Per byte: 1 when a block leader of the current function. */
  lead: Uint8Array | null;
  /** Per byte: 1 when an instruction of any analysed function (or a jump-table case) starts here. */
  covered: Uint8Array | null;
  /** Per byte: 1 when inside an instruction of an analysed function (vivisect: has a location). */
  body: Uint8Array | null;
  /** Per byte: the `looksLikeFunction` walk that last visited it. */
  probe: Int32Array | null;
}

/** Growable scratch storage for one function's instructions, reused across functions. */
class Scratch {
  addr = new Float64Array(1024);
  len = new Uint8Array(1024);
  flow = new Uint8Array(1024);
  target = new Float64Array(1024);
  mem = new Float64Array(1024);
  n = 0;

  push(addr: number, len: number, flow: number, target: number, mem: number): number {
    if (this.n === this.addr.length) this.grow();
    const i = this.n++;
    this.addr[i] = addr;
    this.len[i] = len;
    this.flow[i] = flow;
    this.target[i] = target;
    this.mem[i] = mem;
    return i;
  }

  private grow(): void {
    const size = this.addr.length * 2;
    this.addr = grow(this.addr, size);
    this.len = grow(this.len, size);
    this.flow = grow(this.flow, size);
    this.target = grow(this.target, size);
    this.mem = grow(this.mem, size);
  }
}

/** Flow value stored in scratch for int3 (a stop), beyond the `Flow` values. */
const FLOW_BREAKPOINT = 15;
/** Flow value stored in scratch for a call to a function that does not return. */
const FLOW_NORETURN_CALL = 14;

/** Imports that never return: a call to one ends its basic block and the code flow. */
const NORETURN_IMPORTS = new Set([
  'ExitProcess',
  'ExitThread',
  'FatalExit',
  'FatalAppExitA',
  'FatalAppExitW',
  'RtlExitUserProcess',
  'RtlExitUserThread',
  'exit',
  '_exit',
  '_Exit',
  'quick_exit',
  'abort',
  '_amsg_exit',
  '_invalid_parameter_noinfo_noreturn',
  '_CxxThrowException',
  'longjmp',
  'terminate',
  '__std_terminate',
]);

/** The `Flow` an analysis-internal flow value stands for. */
function publicFlow(flow: number): number {
  if (flow === FLOW_NORETURN_CALL) return Flow.Call;
  if (flow === FLOW_BREAKPOINT) return Flow.Interrupt;
  return flow;
}

function isNoReturn(imp: ImportEntry | null | undefined): boolean {
  return imp?.name !== undefined && NORETURN_IMPORTS.has(imp.name);
}

function endsBlock(flow: number): boolean {
  return (
    flow === Flow.Branch ||
    flow === Flow.ConditionalBranch ||
    flow === Flow.Return ||
    flow === Flow.IndirectBranch ||
    flow === Flow.Exception ||
    flow === FLOW_BREAKPOINT ||
    flow === FLOW_NORETURN_CALL
  );
}

function fallsThrough(flow: number): boolean {
  return (
    flow === Flow.Next ||
    flow === Flow.Call ||
    flow === Flow.IndirectCall ||
    flow === Flow.Interrupt ||
    flow === Flow.ConditionalBranch
  );
}

/** Index in `[lo, hi)` of the block starting exactly at `va` (binary search), or -1. */
function findBlock(blockStart: Float64Array, lo: number, hi: number, va: number): number {
  hi -= 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = blockStart[mid]!;
    if (v === va) return mid;
    if (v < va) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function grow<T extends Float64Array | Uint32Array | Uint8Array>(a: T, need: number): T {
  if (a.length >= need) return a;
  let size = a.length * 2;
  while (size < need) size *= 2;
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** Program-wide growable tables (see `Program`). */
class FlatTables {
  insnAddress = new Float64Array(4096);
  insnLength = new Uint8Array(4096);
  insnCount = 0;
  blockStart = new Float64Array(1024);
  blockEnd = new Float64Array(1024);
  blockExitFlow = new Uint8Array(1024);
  blockExitTarget = new Float64Array(1024);
  blockFirstInsn = new Uint32Array(1025);
  blockCount = 0;
  edgeFrom = new Uint32Array(1024);
  edgeTo = new Uint32Array(1024);
  edgeCount = 0;
  callFrom = new Float64Array(256);
  callTo = new Float64Array(256);
  callIat = new Float64Array(256);
  callCount = 0;

  reserveInsns(n: number): void {
    this.insnAddress = grow(this.insnAddress, this.insnCount + n);
    this.insnLength = grow(this.insnLength, this.insnCount + n);
  }
  reserveBlocks(n: number): void {
    this.blockStart = grow(this.blockStart, this.blockCount + n);
    this.blockEnd = grow(this.blockEnd, this.blockCount + n);
    this.blockExitFlow = grow(this.blockExitFlow, this.blockCount + n);
    this.blockExitTarget = grow(this.blockExitTarget, this.blockCount + n);
    this.blockFirstInsn = grow(this.blockFirstInsn, this.blockCount + n + 1);
  }
  reserveEdges(n: number): void {
    this.edgeFrom = grow(this.edgeFrom, this.edgeCount + n);
    this.edgeTo = grow(this.edgeTo, this.edgeCount + n);
  }
  reserveCalls(n: number): void {
    this.callFrom = grow(this.callFrom, this.callCount + n);
    this.callTo = grow(this.callTo, this.callCount + n);
    this.callIat = grow(this.callIat, this.callCount + n);
  }
}

const INDEX_BITS = 2 ** 22;

/** Sort instruction indices by address: a native numeric sort of packed keys when they fit. */
function sortByAddress(order: Uint32Array, addrs: Float64Array, n: number): void {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const a = addrs[i]!;
    if (a < min) min = a;
    if (a > max) max = a;
  }
  if (n <= INDEX_BITS && (max - min + 1) * INDEX_BITS <= Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = (addrs[i]! - min) * INDEX_BITS + i;
    keys.sort();
    for (let i = 0; i < n; i++) order[i] = keys[i]! % INDEX_BITS;
  } else {
    order.sort((a, b) => addrs[a]! - addrs[b]!);
  }
}

class Analyzer {
  private readonly regions: Region[] = [];
  private lastRegion: Region | null = null;
  private readonly bitness: 32 | 64;
  readonly importsByIat = new Map<number, ImportEntry>();
  readonly thunks = new Map<number, ImportEntry>();
  private readonly known = new Map<number, FunctionSource>();
  private readonly queue: number[] = [];
  private readonly scratch = new Scratch();
  private readonly leaderList: number[] = [];
  private readonly thunkCache = new Map<number, ImportEntry | null>();
  /** Jump-table edges of the current function: indirect jmp VA → case VA. */
  private readonly switchFrom: number[] = [];
  private readonly switchTo: number[] = [];
  private readonly relocations: ReadonlySet<number>;
  private readonly pointerSize: 4 | 8;
  private readonly memory: MemoryView;
  private flows = new Uint8Array(1024);
  private targets = new Float64Array(1024);
  readonly out = new FlatTables();
  private readonly callFrom: number[] = [];
  private readonly callTo: number[] = [];
  private readonly callIat: number[] = [];
  private readonly maxFunctions: number;
  private readonly maxInstructions: number;
  private readonly maxFunctionInstructions: number;
  instructionCount = 0;
  truncated = false;

  constructor(image: Image, options: AnalysisOptions) {
    this.bitness = image.arch === 'amd64' ? 64 : 32;
    this.relocations = image.relocations;
    this.memory = image.memory;
    this.pointerSize = image.memory.pointerSize;
    this.maxFunctions = options.maxFunctions ?? 100_000;
    this.maxInstructions = options.maxInstructions ?? 20_000_000;
    this.maxFunctionInstructions = options.maxFunctionInstructions ?? 500_000;
    const maxBytes = options.maxSectionBytes ?? 64 * 1024 * 1024;
    for (const imp of image.imports) {
      if (!this.importsByIat.has(imp.iatAddress)) this.importsByIat.set(imp.iatAddress, imp);
    }
    const entrySection =
      image.entryPoint === null ? null : image.memory.sectionAt(image.entryPoint);
    for (const s of image.sections) {
      if (this.regions.length >= MAX_CODE_SECTIONS) break;
      if (!s.executable && s !== entrySection) continue;
      // Only bytes backed by the file: the zero fill up to VirtualSize is data (uninitialised, or
      // the target of a packer), and decoding it yields endless `add [eax], al`.
      const size = Math.min(codeBytes(s), maxBytes);
      if (size <= 0) continue;
      const bytes = image.memory.read(s.va, size);
      if (bytes === null || bytes.length === 0) continue;
      this.regions.push({
        start: s.va,
        end: s.va + bytes.length,
        bytes,
        decoder: null,
        idx: null,
        lead: null,
        covered: null,
        body: null,
        probe: null,
      });
    }
  }

  private regionAt(va: number): Region | null {
    const last = this.lastRegion;
    if (last !== null && va >= last.start && va < last.end) return last;
    for (const r of this.regions) {
      if (va >= r.start && va < r.end) {
        this.lastRegion = r;
        return r;
      }
    }
    return null;
  }

  private decoderFor(r: Region): X86Decoder {
    if (r.decoder === null) r.decoder = createDecoder(this.bitness, r.bytes, r.start);
    return r.decoder;
  }

  private indexOf(r: Region): Int32Array {
    if (r.idx === null) r.idx = new Int32Array(r.bytes.length).fill(-1);
    return r.idx;
  }

  private markLeader(va: number): void {
    const r = this.regionAt(va);
    if (r === null) return;
    if (r.lead === null) r.lead = new Uint8Array(r.bytes.length);
    const off = va - r.start;
    if (r.lead[off] === 0) {
      r.lead[off] = 1;
      this.leaderList.push(va);
    }
  }

  private isLeader(va: number): boolean {
    const r = this.regionAt(va);
    return r !== null && r.lead !== null && r.lead[va - r.start] === 1;
  }

  /** Scratch index of the instruction decoded at `va` in the current function, or -1. */
  private decodedAt(va: number): number {
    const r = this.regionAt(va);
    return r === null || r.idx === null ? -1 : r.idx[va - r.start]!;
  }

  /** Forget the current function's per-byte marks. */
  private clearMarks(): void {
    const sc = this.scratch;
    for (let i = 0; i < sc.n; i++) {
      const va = sc.addr[i]!;
      const r = this.regionAt(va)!;
      const off = va - r.start;
      r.idx![off] = -1;
      (r.covered ??= new Uint8Array(r.bytes.length))[off] = 1;
      const body = (r.body ??= new Uint8Array(r.bytes.length));
      body.fill(1, off, Math.min(off + sc.len[i]!, body.length));
    }
    for (const va of this.leaderList) {
      const r = this.regionAt(va)!;
      r.lead![va - r.start] = 0;
    }
    this.leaderList.length = 0;
  }

  /**
   * Cases of a jump table at `table` used by the indirect jmp at `from`: consecutive pointers
   * into code (at most MAX_JUMP_TABLE). In an image with relocations, every entry must be
   * relocated (that is what tells a table entry from the data after it); in one without (most
   * 32-bit executables), entries are read as vivisect's `iterJumpTable` does, while they point
   * into code that does not start with `00 00` and the slot itself is not code.
   */
  private readJumpTable(from: number, table: number, work: number[]): void {
    const size = this.pointerSize;
    const seen = new Set<number>();
    const relocated = this.relocations.size > 0;
    for (let i = 0; i < MAX_JUMP_TABLE; i++) {
      const slot = table + i * size;
      if (relocated ? !this.relocations.has(slot) : this.isBody(slot)) break;
      const target = this.memory.readPointer(slot);
      if (target === null) break;
      const tr = this.regionAt(target);
      if (tr === null) break;
      if (
        !relocated &&
        tr.bytes[target - tr.start] === 0 &&
        tr.bytes[target - tr.start + 1] === 0
      ) {
        break;
      }
      if (seen.has(target)) continue;
      seen.add(target);
      this.switchFrom.push(from);
      this.switchTo.push(target);
      const r = this.regionAt(target)!;
      (r.covered ??= new Uint8Array(r.bytes.length))[target - r.start] = 1;
      this.markLeader(target);
      work.push(target);
    }
  }

  /** The import a `jmp [IAT]` thunk at `va` forwards to, or null; cached. Moves the decoder. */
  private peekThunk(va: number): ImportEntry | null {
    let thunk: ImportEntry | null = null;
    const r = this.regionAt(va);
    if (r !== null) {
      const d = this.decoderFor(r);
      d.seek(va);
      if (d.next() > 0 && d.flow === Flow.IndirectBranch) {
        const m = d.memoryAddress(0);
        if (m >= 0) thunk = this.importsByIat.get(m) ?? null;
      }
    }
    this.thunkCache.set(va, thunk);
    return thunk;
  }

  private isCovered(va: number): boolean {
    const r = this.regionAt(va);
    return r !== null && r.covered !== null && r.covered[va - r.start] === 1;
  }

  /**
   * Relocation sites holding pointers into code, ascending: vivisect's `relocations` pass makes
   * a pointer at each one that is not inside code and follows it (`isProbablyCode`).
   */
  relocatedPointers: number[] = [];
  /** Collect code references from operands (see `AnalysisOptions.codeReferences`). */
  collectRefs = false;
  /** Scan for function-entry signatures once everything else is done (i386). */
  signatureScan = false;
  /**
   * Code addresses that vivisect would test with `isProbablyCode`: targets of pointers read
   * through memory operands.
   */
  private readonly pointedCode: number[] = [];
  /** Code addresses in immediate operands (vivisect's REF_PTR xrefs, tried by `emucode`). */
  private readonly immediateCode: number[] = [];
  private readonly candidateSeen = new Set<number>();

  /** Record code addresses referenced by the operands of the instruction just decoded. */
  private collectReferences(dec: X86Decoder): void {
    const imm = dec.wideImmediate();
    if (imm >= 0 && this.regionAt(imm) !== null) this.addCandidate(this.immediateCode, imm);
    const m = dec.memoryAddress();
    if (m < 0 || this.importsByIat.has(m)) return;
    if (this.regionAt(m) !== null) return;
    const p = this.memory.readPointer(m);
    if (p !== null && this.regionAt(p) !== null) this.addCandidate(this.pointedCode, p);
  }

  private addCandidate(list: number[], va: number): void {
    if (this.candidateSeen.has(va) || this.known.has(va)) return;
    this.candidateSeen.add(va);
    list.push(va);
  }

  private isBody(va: number): boolean {
    const r = this.regionAt(va);
    return r !== null && r.body !== null && r.body[va - r.start] === 1;
  }

  /** Stamp of the current `looksLikeFunction` walk (see `Region.probe`). */
  private probeGeneration = 0;
  private readonly probeStack: number[] = [];
  private readonly probeMnemonics = new Map<string, number>();

  /**
   * Whether code at `va` (not yet part of any function) looks like a function, approximating
   * vivisect's `isProbablyCode` / `emucode` test: a function-entry signature (i386), or a walk
   * over its paths (both sides of conditional branches, over calls, each address once) reaches a
   * `ret` (or a call that does not return) before an invalid instruction, a breakpoint, an
   * `add [eax], al` (00 00) or the start of another function; and no one mnemonic makes up 67%
   * or more of the instructions walked.
   */
  private looksLikeFunction(va: number): boolean {
    const region = this.regionAt(va);
    if (region === null || this.isBody(va) || this.known.has(va)) return false;
    if (this.probeFailed.has(va)) return false;
    if (this.probe(va, region)) return true;
    this.probeFailed.add(va);
    return false;
  }

  /** Addresses `looksLikeFunction` rejected (the answer only changes as more code is found). */
  private readonly probeFailed = new Set<number>();

  private probe(va: number, region: Region): boolean {
    if (this.bitness === 32 && matchesEntrySignature(region.bytes, va - region.start)) return true;
    const stamp = ++this.probeGeneration;
    const stack = this.probeStack;
    const mn = this.probeMnemonics;
    stack.length = 0;
    mn.clear();
    stack.push(va);
    let count = 0;
    let good = false;
    let expected = -1;
    walk: while (stack.length > 0) {
      let pc = stack.pop()!;
      for (;;) {
        if (pc !== va && this.known.has(pc)) return false;
        const r = this.regionAt(pc);
        if (r === null) break;
        const off = pc - r.start;
        const seen = (r.probe ??= new Int32Array(r.bytes.length));
        if (seen[off] === stamp) break;
        seen[off] = stamp;
        if (r.bytes[off] === 0 && r.bytes[off + 1] === 0) return false;
        const dec = this.decoderFor(r);
        if (pc !== expected) dec.seek(pc);
        const len = dec.next();
        expected = pc + len;
        if (len === 0) return false;
        if (++count > MAX_PROBE_INSTRUCTIONS) return false;
        const m = dec.mnemonic();
        mn.set(m, (mn.get(m) ?? 0) + 1);
        const flow = dec.flow;
        if (flow === Flow.Return) {
          good = true;
          break walk;
        }
        if (flow === Flow.Interrupt && dec.isBreakpoint) return false;
        if (flow === Flow.Exception) return false;
        if (flow === Flow.Call) {
          const t = dec.branchTarget();
          if (t >= 0) {
            let thunk = this.thunkCache.get(t);
            if (thunk === undefined) {
              thunk = this.peekThunk(t);
              expected = -1;
            }
            if (isNoReturn(thunk)) {
              good = true;
              break walk;
            }
          }
        } else if (flow === Flow.IndirectCall) {
          const a = dec.memoryAddress(0);
          if (a >= 0 && isNoReturn(this.importsByIat.get(a))) {
            good = true;
            break walk;
          }
        } else if (flow === Flow.Branch) {
          const t = dec.branchTarget();
          if (t < 0) break;
          pc = t;
          continue;
        } else if (flow === Flow.ConditionalBranch) {
          const t = dec.branchTarget();
          if (t >= 0) stack.push(t);
        } else if (flow === Flow.IndirectBranch) {
          break;
        }
        pc += len;
      }
    }
    if (!good) return false;
    for (const n of mn.values()) if (n / count >= 0.67) return false;
    return true;
  }

  private pendingPointed = 0;
  private pendingImmediate = 0;
  private scanRegion = 0;
  private scanOffset = 0;

  /**
   * Start one more function from the evidence tried after code flow, in vivisect's order:
   * relocated pointers in data, pointers into code (relocations in code, pointers read through
   * operands), code addresses in immediate operands, then (i386) entry signatures in bytes no
   * function covers. Returns false when there is nothing left to try.
   */
  private startNextCandidate(): boolean {
    while (this.pendingSeeds < this.relocatedPointers.length) {
      const site = this.relocatedPointers[this.pendingSeeds++]!;
      if (this.isBody(site)) continue;
      const target = this.memory.readPointer(site)!;
      if (this.isCovered(target) || this.known.has(target)) continue;
      // A relocated pointer in data is taken as it is (a function-pointer table, a vtable);
      // one inside code must also look like a function.
      if (this.regionAt(site) !== null && !this.looksLikeFunction(target)) continue;
      this.addFunction(target, 'pointer');
      return true;
    }
    while (this.pendingPointed < this.pointedCode.length) {
      const va = this.pointedCode[this.pendingPointed++]!;
      if (this.looksLikeFunction(va)) {
        this.addFunction(va, 'reference');
        return true;
      }
    }
    while (this.pendingImmediate < this.immediateCode.length) {
      const va = this.immediateCode[this.pendingImmediate++]!;
      if (this.looksLikeFunction(va)) {
        this.addFunction(va, 'reference');
        return true;
      }
    }
    if (!this.signatureScan) return false;
    while (this.scanRegion < this.regions.length) {
      const r = this.regions[this.scanRegion]!;
      const bytes = r.bytes;
      const end = bytes.length - 4;
      while (this.scanOffset < end) {
        const off = this.scanOffset++;
        if (r.body !== null && r.body[off] === 1) continue;
        if (matchesEntrySignature(bytes, off) && !this.known.has(r.start + off)) {
          this.addFunction(r.start + off, 'signature');
          return true;
        }
      }
      this.scanRegion++;
      this.scanOffset = 0;
    }
    return false;
  }

  private pendingSeeds = 0;

  /**
   * Relocation sites holding pointers into code, ascending. Without `inCode`, only sites outside
   * code sections (function-pointer tables, vtables, callbacks in data).
   */
  findRelocatedPointers(image: Image, inCode: boolean): number[] {
    const data: number[] = [];
    const code: number[] = [];
    const mem = image.memory;
    for (const site of image.relocations) {
      const target = mem.readPointer(site);
      if (target === null || this.regionAt(target) === null) continue;
      if (this.regionAt(site) === null) data.push(site);
      else if (inCode) code.push(site);
    }
    // Pointers in data first, by target: a function reached through one is analysed before a
    // pointer to one of its jump-table cases or handlers is tried. Then pointers in code, by site.
    data.sort((a, b) => mem.readPointer(a)! - mem.readPointer(b)! || a - b);
    code.sort((a, b) => a - b);
    return data.concat(code);
  }

  /** Queue a function start unless known or outside code. */
  addFunction(va: number, source: FunctionSource): void {
    if (this.known.has(va) || this.regionAt(va) === null) return;
    if (this.known.size >= this.maxFunctions) {
      this.truncated = true;
      return;
    }
    this.known.set(va, source);
    this.queue.push(va);
  }

  run(): FunctionInfo[] {
    const out: FunctionInfo[] = [];
    try {
      for (let qi = 0; ; qi++) {
        if (qi === this.queue.length) {
          // Code reached from the roots is done: start the next candidate that is not already
          // code (a data pointer to a jump-table case or a handler inside a function is not).
          while (qi === this.queue.length && this.startNextCandidate()) {
            /* addFunction may refuse (bounds): try the next */
          }
          if (qi === this.queue.length) break;
        }
        if (this.instructionCount >= this.maxInstructions) {
          this.truncated = true;
          break;
        }
        const va = this.queue[qi]!;
        const fn = this.analyzeFunction(va, this.known.get(va)!);
        if (fn !== null) out.push(fn);
      }
    } finally {
      for (const r of this.regions) {
        r.decoder?.free();
        r.decoder = null;
      }
    }
    out.sort((a, b) => a.address - b.address);
    return out;
  }

  private analyzeFunction(start: number, source: FunctionSource): FunctionInfo | null {
    const sc = this.scratch;
    sc.n = 0;
    this.markLeader(start);
    this.callFrom.length = 0;
    this.callTo.length = 0;
    this.callIat.length = 0;
    this.switchFrom.length = 0;
    this.switchTo.length = 0;
    const work = [start];
    const fnLimit = Math.min(
      this.maxFunctionInstructions,
      this.maxInstructions - this.instructionCount,
    );

    outer: while (work.length > 0) {
      let va = work.pop()!;
      const region = this.regionAt(va);
      if (region === null) continue;
      const idx = this.indexOf(region);
      const rstart = region.start;
      if (idx[va - rstart]! >= 0) continue;
      const dec = this.decoderFor(region);
      dec.seek(va);
      for (;;) {
        if (idx[va - rstart]! >= 0) {
          this.markLeader(va);
          break;
        }
        if (sc.n >= fnLimit) {
          this.truncated = true;
          break outer;
        }
        const len = dec.next();
        if (len === 0) break;
        let flow: number = dec.flow;
        let target = -1;
        let mem = -1;
        if (this.collectRefs && flow === Flow.Next) this.collectReferences(dec);
        switch (flow) {
          case Flow.ConditionalBranch:
            target = dec.branchTarget();
            if (target >= 0 && this.regionAt(target) !== null) {
              work.push(target);
              this.markLeader(target);
            }
            this.markLeader(va + len);
            break;
          case Flow.Branch:
            target = dec.branchTarget();
            if (target >= 0 && !this.known.has(target) && this.regionAt(target) !== null) {
              work.push(target);
              this.markLeader(target);
            }
            break;
          case Flow.Call:
            target = dec.branchTarget();
            this.callFrom.push(va);
            this.callTo.push(target);
            this.callIat.push(-1);
            if (target >= 0) {
              this.addFunction(target, 'call');
              let thunk = this.thunkCache.get(target);
              if (thunk === undefined) {
                thunk = this.peekThunk(target);
                dec.seek(va + len);
              }
              if (isNoReturn(thunk)) flow = FLOW_NORETURN_CALL;
            }
            break;
          case Flow.IndirectCall: {
            mem = dec.memoryAddress(0);
            const imp = mem >= 0 ? this.importsByIat.get(mem) : undefined;
            this.callFrom.push(va);
            this.callTo.push(-1);
            this.callIat.push(imp !== undefined ? mem : -1);
            if (isNoReturn(imp)) flow = FLOW_NORETURN_CALL;
            break;
          }
          case Flow.IndirectBranch: {
            mem = dec.memoryAddress(0);
            const table = mem < 0 ? dec.jumpTable() : -1;
            if (table >= 0) this.readJumpTable(va, table, work);
            break;
          }
          case Flow.Interrupt:
            if (dec.isBreakpoint) flow = FLOW_BREAKPOINT;
            break;
          default:
            break;
        }
        idx[va - rstart] = sc.push(va, len, flow, target, mem);
        if (endsBlock(flow) && flow !== Flow.ConditionalBranch) break;
        va += len;
        if (va >= region.end) break;
      }
    }

    const n = sc.n;
    this.instructionCount += n;
    if (n === 0) {
      this.clearMarks();
      return null;
    }

    let thunk: ImportEntry | null = null;
    const first = this.decodedAt(start);
    if (first >= 0 && sc.flow[first] === Flow.IndirectBranch && sc.mem[first]! >= 0) {
      thunk = this.importsByIat.get(sc.mem[first]!) ?? null;
      if (thunk !== null) this.thunks.set(start, thunk);
    }
    const fn = this.buildFunction(start, source, thunk);
    this.clearMarks();
    return fn;
  }

  private buildFunction(
    start: number,
    source: FunctionSource,
    thunk: ImportEntry | null,
  ): FunctionInfo {
    const sc = this.scratch;
    const n = sc.n;
    const addrs = sc.addr;
    let sorted = true;
    for (let i = 1; i < n; i++) {
      if (addrs[i - 1]! > addrs[i]!) {
        sorted = false;
        break;
      }
    }
    let order: Uint32Array | null = null;
    if (!sorted) {
      order = new Uint32Array(n);
      sortByAddress(order, addrs, n);
    }

    const out = this.out;
    const firstInsn = out.insnCount;
    out.reserveInsns(n);
    const insnAddress = out.insnAddress;
    const insnLength = out.insnLength;
    const flows = this.flows.length >= n ? this.flows : (this.flows = new Uint8Array(n * 2));
    const targets =
      this.targets.length >= n ? this.targets : (this.targets = new Float64Array(n * 2));
    for (let i = 0; i < n; i++) {
      const j = order === null ? i : order[i]!;
      insnAddress[firstInsn + i] = addrs[j]!;
      insnLength[firstInsn + i] = sc.len[j]!;
      flows[i] = sc.flow[j]!;
      targets[i] = sc.target[j]!;
    }
    out.insnCount += n;

    // Blocks: a new block at a leader, after a block-ending instruction, or at a discontinuity.
    const firstBlock = out.blockCount;
    out.reserveBlocks(n);
    for (let i = 0; i < n; i++) {
      const g = firstInsn + i;
      const a = insnAddress[g]!;
      if (
        i === 0 ||
        endsBlock(flows[i - 1]!) ||
        insnAddress[g - 1]! + insnLength[g - 1]! !== a ||
        this.isLeader(a)
      ) {
        out.blockFirstInsn[out.blockCount++] = g;
      }
    }
    const blockCount = out.blockCount - firstBlock;
    const bfi = out.blockFirstInsn;
    bfi[out.blockCount] = firstInsn + n;
    const blockStart = out.blockStart;
    const blockEnd = out.blockEnd;
    for (let b = firstBlock; b < out.blockCount; b++) {
      const last = bfi[b + 1]! - 1;
      blockStart[b] = insnAddress[bfi[b]!]!;
      blockEnd[b] = insnAddress[last]! + insnLength[last]!;
      const flow = flows[last - firstInsn]!;
      out.blockExitFlow[b] = publicFlow(flow);
      out.blockExitTarget[b] =
        flow === Flow.Branch || flow === Flow.ConditionalBranch ? targets[last - firstInsn]! : -1;
    }
    const blockLimit = out.blockCount;

    const firstEdge = out.edgeCount;
    out.reserveEdges(2 * blockCount + this.switchTo.length);
    const ef = out.edgeFrom;
    const et = out.edgeTo;
    let e = firstEdge;
    for (let b = firstBlock; b < blockLimit; b++) {
      const last = bfi[b + 1]! - 1 - firstInsn;
      const flow = flows[last]!;
      let taken = -1;
      if (flow === Flow.ConditionalBranch || flow === Flow.Branch) {
        const t = targets[last]!;
        const to = t >= 0 ? findBlock(blockStart, firstBlock, blockLimit, t) : -1;
        if (to >= 0) {
          taken = to;
          ef[e] = b;
          et[e++] = to;
        }
      }
      if (flow === Flow.IndirectBranch && this.switchFrom.length > 0) {
        const from = insnAddress[bfi[b + 1]! - 1]!;
        for (let k = 0; k < this.switchFrom.length; k++) {
          if (this.switchFrom[k] !== from) continue;
          const to = findBlock(blockStart, firstBlock, blockLimit, this.switchTo[k]!);
          if (to >= 0) {
            ef[e] = b;
            et[e++] = to;
          }
        }
      }
      if (
        fallsThrough(flow) &&
        b + 1 < blockLimit &&
        blockStart[b + 1] === blockEnd[b] &&
        b + 1 !== taken
      ) {
        ef[e] = b;
        et[e++] = b + 1;
      }
    }
    out.edgeCount = e;

    // Call sites in address order (decode order is usually already sorted).
    const m = this.callFrom.length;
    const cf = this.callFrom;
    const firstCall = out.callCount;
    out.reserveCalls(m);
    let callsSorted = true;
    for (let i = 1; i < m; i++) {
      if (cf[i - 1]! > cf[i]!) {
        callsSorted = false;
        break;
      }
    }
    const corder = callsSorted
      ? null
      : Array.from({ length: m }, (_, i) => i).sort((a, b) => cf[a]! - cf[b]!);
    for (let i = 0; i < m; i++) {
      const j = corder === null ? i : corder[i]!;
      out.callFrom[firstCall + i] = cf[j]!;
      out.callTo[firstCall + i] = this.callTo[j]!;
      out.callIat[firstCall + i] = this.callIat[j]!;
    }
    out.callCount += m;

    const entry = findBlock(blockStart, firstBlock, blockLimit, start);
    return {
      address: start,
      source,
      thunk,
      firstInsn,
      insnCount: n,
      firstBlock,
      blockCount,
      entryBlock: entry >= 0 ? entry : firstBlock,
      firstEdge,
      edgeCount: e - firstEdge,
      firstCall,
      callCount: m,
    };
  }
}

/** Recover functions, basic blocks and CFG edges from an image's code. */
export function analyze(image: Image, options: AnalysisOptions = {}): Program {
  const a = new Analyzer(image, options);
  if (image.entryPoint !== null) a.addFunction(image.entryPoint, 'entry');
  for (const cb of image.tlsCallbacks) a.addFunction(cb, 'tls');
  for (const e of image.exports) {
    if (e.forwarder === undefined) a.addFunction(e.address, 'export');
  }
  if (options.codeReferences ?? true) {
    for (const va of pdataFunctionStarts(image)) a.addFunction(va, 'pdata');
    for (const va of safeSehHandlers(image)) a.addFunction(va, 'seh');
    a.collectRefs = true;
    a.signatureScan = image.arch === 'i386';
  }
  if (options.dataPointers ?? true) {
    a.relocatedPointers = a.findRelocatedPointers(image, options.codeReferences ?? true);
  }
  const functions = a.run();
  const t = a.out;
  const byAddress = new Map<number, FunctionInfo>();
  for (const f of functions) byAddress.set(f.address, f);
  return {
    image,
    bitness: image.arch === 'amd64' ? 64 : 32,
    functions,
    functionAt: (va) => byAddress.get(va),
    importsByIat: a.importsByIat,
    thunks: a.thunks,
    instructionCount: t.insnCount,
    truncated: a.truncated,
    insnAddress: t.insnAddress.slice(0, t.insnCount),
    insnLength: t.insnLength.slice(0, t.insnCount),
    blockStart: t.blockStart.slice(0, t.blockCount),
    blockEnd: t.blockEnd.slice(0, t.blockCount),
    blockExitFlow: t.blockExitFlow.slice(0, t.blockCount),
    blockExitTarget: t.blockExitTarget.slice(0, t.blockCount),
    blockFirstInsn: t.blockFirstInsn.slice(0, t.blockCount + 1),
    edgeFrom: t.edgeFrom.slice(0, t.edgeCount),
    edgeTo: t.edgeTo.slice(0, t.edgeCount),
    callFrom: t.callFrom.slice(0, t.callCount),
    callTo: t.callTo.slice(0, t.callCount),
    callIat: t.callIat.slice(0, t.callCount),
  };
}
