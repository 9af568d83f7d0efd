/**
 * Instruction, basic-block and function features of x86/x64 code, with the vocabulary and the
 * quirks of capa's vivisect backend, so that the same rules match at the same addresses.
 */
import { codeBytes, type Program } from '../analysis/index.js';
import {
  createDecoder,
  Flow,
  Operand,
  RegisterClass,
  newOperandView,
  type OperandView,
  type X86Decoder,
} from '../arch/x86/index.js';
import type { ImportEntry } from '../format/image.js';
import { hexInteger, textKey } from './feature.js';
import { FeatureSet } from './feature-set.js';
import type { BlockFeatures, FunctionFeatures, InstructionFeatures } from './feature-tree.js';
import { MemoryProbe, isPrintable } from './memory-probe.js';
import { StackWrites } from './stack-strings.js';
import { generateSymbols } from './symbols.js';

/** Immediates added to a register below this are also structure offsets (capa's bound). */
const MAX_STRUCTURE_SIZE = 0x10000;
/** Bytes from a block's start or end within which an xor with esp/ebp is a security cookie. */
const SECURITY_COOKIE_BYTES_DELTA = 0x40;
/** Printable bytes moved to the stack that make a stack string. */
const MIN_STACKSTRING_LEN = 8;
/** How many hops capa follows through chained thunks. */
const THUNK_CHAIN_DEPTH = 5;
/** Instructions that end capa's search for what a `call reg` register holds. */
const DESTRUCTIVE_MNEMONICS = new Set(['mov', 'lea', 'pop', 'xor']);

/** iced's spelling → vivisect's, where rules use vivisect's. */
const MNEMONIC_SPELLING: Record<string, string> = { int1: 'icebp' };

const MAX_OPERANDS = 5;

/** Reads instructions at any address of an image's code, decoding each on demand. */
class CodeReader {
  private readonly decoders: X86Decoder[] = [];

  constructor(program: Program) {
    const { image } = program;
    for (const s of image.sections) {
      const size = codeBytes(s);
      if (!s.executable || size === 0) continue;
      const bytes = image.memory.read(s.va, size);
      if (bytes) this.decoders.push(createDecoder(program.bitness, bytes, s.va));
    }
  }

  /** The decoder holding the instruction at `va`, decoded; null when there is none. */
  at(va: number): X86Decoder | null {
    for (const d of this.decoders) {
      if (d.contains(va)) {
        d.seek(va);
        return d.next() > 0 ? d : null;
      }
    }
    return null;
  }

  free(): void {
    for (const d of this.decoders) d.free();
  }
}

function addNumber(fs: FeatureSet, i: number, v: bigint, at: number): void {
  fs.add(`number(${hexInteger(v)})`, at);
  fs.add(`operand[${i}].number(${hexInteger(v)})`, at);
}

function addOffset(fs: FeatureSet, i: number, v: bigint, at: number): void {
  fs.add(`offset(${hexInteger(v)})`, at);
  fs.add(`operand[${i}].offset(${hexInteger(v)})`, at);
}

/**
 * capa's `get_printable_len`: how many characters an immediate moved to the stack contributes
 * to a stack string — its size when every byte is printable ASCII, half its size when it is
 * printable UTF-16LE (odd bytes zero), else 0. (A one-byte immediate has no UTF-16 form.)
 */
export function printableLength(value: bigint, size: number): number {
  let ascii = true;
  let wide = size >= 2;
  for (let i = 0; i < size; i++) {
    const b = Number((value >> BigInt(8 * i)) & 0xffn);
    if (!isPrintable(b)) ascii = false;
    if (i % 2 === 1 ? b !== 0 : !isPrintable(b)) wide = false;
  }
  return ascii ? size : wide ? size / 2 : 0;
}

/** What instruction features need to know of their basic block. */
interface BlockContext {
  index: number;
  start: number;
  /** End of the block's last instruction (exclusive). */
  end: number;
  /** The function's lowest-addressed block. */
  isFirst: boolean;
  /** The block ends with a return. */
  returns: boolean;
}

/**
 * An xor with esp/ebp (or a non-register source) near the start of the first block or the end
 * of a returning block: the stack-cookie check, not an encoding loop.
 */
function isSecurityCookie(va: number, src: OperandView, block: BlockContext): boolean {
  if (src.kind === Operand.Reg && src.regClass === RegisterClass.Other) return false;
  if (block.isFirst && va < block.start + SECURITY_COOKIE_BYTES_DELTA) return true;
  return block.returns && va > block.end - SECURITY_COOKIE_BYTES_DELTA;
}

/**
 * Extracts the features of every function of a program, lazily: each function's features are
 * computed when the engine reaches it.
 */
export class X86FeatureExtractor {
  private readonly code: CodeReader;
  private readonly probe: MemoryProbe;
  private readonly imports: ReadonlyMap<number, ImportEntry>;
  /** Function start → the instructions referring to it as code (see `codeRefsTo`). */
  private callers: Map<number, Set<number>> | null = null;
  private readonly ops: OperandView[] = Array.from({ length: MAX_OPERANDS }, newOperandView);
  /** For helpers that decode other instructions than the one being extracted. */
  private readonly scratch = newOperandView();
  private readonly scratchSource = newOperandView();

  constructor(private readonly program: Program) {
    this.code = new CodeReader(program);
    this.probe = new MemoryProbe(program.image.memory);
    this.imports = program.importsByIat;
  }

  /**
   * capa's `calls to` are vivisect's code references to the function's start: direct calls,
   * and also direct jumps (`jmp` tail calls, a `jcc` back to the start). Calls are the
   * program's call sites; jumps end blocks, so they are the blocks' exits.
   * Computed on first use.
   */
  private codeRefsTo(va: number): Iterable<number> {
    if (this.callers === null) {
      const callers = new Map<number, Set<number>>();
      const add = (to: number, from: number): void => {
        if (this.program.functionAt(to) === undefined) return;
        let set = callers.get(to);
        if (!set) callers.set(to, (set = new Set()));
        set.add(from);
      };
      const p = this.program;
      for (let i = 0; i < p.callFrom.length; i++) {
        const to = p.callTo[i]!;
        if (to >= 0) add(to, p.callFrom[i]!);
      }
      for (let b = 0; b < p.blockStart.length; b++) {
        const to = p.blockExitTarget[b]!;
        if (to >= 0) add(to, p.insnAddress[p.blockFirstInsn[b + 1]! - 1]!);
      }
      this.callers = callers;
    }
    return this.callers.get(va) ?? [];
  }

  /** Releases the decoders (WASM memory). */
  free(): void {
    this.code.free();
  }

  /** The features of the functions at these indices (default: all), one at a time. */
  *functions(indices?: Iterable<number>): Generator<FunctionFeatures> {
    for (const f of indices ?? this.program.functions.keys()) yield this.functionFeatures(f);
  }

  functionFeatures(index: number): FunctionFeatures {
    const p = this.program;
    const fn = p.functions[index]!;
    const features = new FeatureSet();
    for (const caller of this.codeRefsTo(fn.address)) {
      features.add(textKey('characteristic', 'calls to'), caller);
    }
    if (this.hasLoop(index)) features.add(textKey('characteristic', 'loop'), fn.address);
    const blocks: BlockFeatures[] = [];
    for (let b = fn.firstBlock; b < fn.firstBlock + fn.blockCount; b++) {
      blocks.push(this.blockFeatures(index, b));
    }
    return { address: fn.address, features, blocks };
  }

  /** capa's loop: a cycle through two or more blocks of the function's control-flow graph. */
  private hasLoop(index: number): boolean {
    const p = this.program;
    const fn = p.functions[index]!;
    const n = fn.blockCount;
    if (n < 2 || fn.edgeCount === 0) return false;
    const succ: number[][] = Array.from({ length: n }, () => []);
    for (let e = fn.firstEdge; e < fn.firstEdge + fn.edgeCount; e++) {
      const from = p.edgeFrom[e]! - fn.firstBlock;
      const to = p.edgeTo[e]! - fn.firstBlock;
      if (from !== to && from >= 0 && from < n && to >= 0 && to < n) succ[from]!.push(to);
    }
    return hasMultiNodeCycle(succ);
  }

  private blockFeatures(fnIndex: number, b: number): BlockFeatures {
    const p = this.program;
    const start = p.blockStart[b]!;
    const features = new FeatureSet();
    features.add('basic block', start);
    const first = p.blockFirstInsn[b]!;
    const last = p.blockFirstInsn[b + 1]! - 1;
    const exit = p.blockExitFlow[b]!;
    const block: BlockContext = {
      index: b,
      start,
      end: p.blockEnd[b]!,
      // capa takes viv_utils' `f.basic_blocks[0]`: blocks sorted by address, so the lowest
      // block of the function (not necessarily the one at its entry point)
      isFirst: b === p.functions[fnIndex]!.firstBlock,
      returns: exit === Flow.Return,
    };
    if (exit === Flow.ConditionalBranch && p.blockExitTarget[b] === start) {
      features.add(textKey('characteristic', 'tight loop'), start);
    }
    const instructions: InstructionFeatures[] = [];
    const stack = new StackWrites();
    for (let i = first; i <= last; i++) {
      const va = p.insnAddress[i]!;
      const d = this.code.at(va);
      if (d === null) continue;
      instructions.push({
        address: va,
        features: this.instructionFeatures(d, fnIndex, block, stack),
      });
    }
    if (stack.printable > MIN_STACKSTRING_LEN) {
      features.add(textKey('characteristic', 'stack string'), start);
      // beyond capa: the text of the strings built in the block
      for (const s of stack.strings()) features.add(textKey('string', s.value), s.address);
    }
    return { address: start, features, instructions };
  }

  /**
   * capa's stack-string count: an immediate `mov` to memory based on esp/rsp/ebp/rbp (whatever
   * the index: `mov [ebp+ecx-0x20], imm` counts too) adds its printable length; the bytes are
   * also recorded, to recover the strings' text.
   */
  private countStackWrite(va: number, mnem: string, count: number, stack: StackWrites): void {
    if (count !== 2 || !mnem.startsWith('mov')) return;
    const [dst, src] = this.ops as [OperandView, OperandView];
    if (src.kind !== Operand.Imm) return;
    if (dst.kind !== Operand.Sib && dst.kind !== Operand.RegMem) return;
    if (dst.regClass === RegisterClass.Other) return;
    if (dst.index === 0) stack.write(dst.regClass, dst.disp, src.value, src.size, va);
    stack.printable += printableLength(src.value, src.size);
  }

  /**
   * The features of the instruction `d` has just decoded (and its part in the block's stack
   * strings). Everything is read from `d` first: resolving an API may decode other
   * instructions with the same decoder.
   */
  private instructionFeatures(
    d: X86Decoder,
    fnIndex: number,
    block: BlockContext,
    stack: StackWrites,
  ): FeatureSet {
    const fn = this.program.functions[fnIndex]!;
    const va = d.va;
    const flow = d.flow;
    const segment = d.segmentPrefix();
    // vivisect's getBranches gives a `jmp [index*4 + table]` (32-bit) the table as its target
    const jumpTable = this.program.bitness === 32 ? d.jumpTable() : -1;
    const iced = d.mnemonic();
    const count = Math.min(d.operandCount(), MAX_OPERANDS);
    const ops = this.ops;
    for (let i = 0; i < count; i++) d.operand(i, ops[i]!);
    this.countStackWrite(va, iced, count, stack);

    const fs = new FeatureSet();
    const mnem = MNEMONIC_SPELLING[iced] ?? iced;
    fs.add(textKey('mnemonic', mnem), va);
    const op0 = count > 0 ? ops[0]! : null;
    const isCall = mnem === 'call';
    const isJmp = mnem === 'jmp';

    // api
    if (op0 && (isCall || (isJmp && fn.thunk === null))) {
      for (const name of this.apiNames(va, isCall, op0, fnIndex, block.index))
        fs.add(textKey('api', name), va);
    }

    // calls from, recursive call, call $+5, indirect call
    if (isCall && op0) {
      let target = -1;
      if (
        op0.kind === Operand.ImmMem ||
        op0.kind === Operand.RipRel ||
        op0.kind === Operand.PcRel
      ) {
        target = Number(op0.value);
        if (target >= 0) fs.add(textKey('characteristic', 'calls from'), target);
        if (target === va + 5) fs.add(textKey('characteristic', 'call $+5'), va);
      }
      if (target > 0 && target === fn.address) {
        fs.add(textKey('characteristic', 'recursive call'), target);
      }
      if (op0.kind === Operand.Reg || op0.kind === Operand.RegMem || op0.kind === Operand.Sib) {
        fs.add(textKey('characteristic', 'indirect call'), va);
      }
    }

    // cross section flow
    if (op0 && this.crossesSection(va, flow, op0, isCall, isJmp ? jumpTable : -1)) {
      fs.add(textKey('characteristic', 'cross section flow'), va);
    }

    // nzxor
    if ((iced === 'xor' || iced === 'xorpd' || iced === 'xorps' || iced === 'pxor') && count >= 2) {
      const a = ops[0]!;
      const b = ops[1]!;
      const same = a.kind === Operand.Reg && b.kind === Operand.Reg && a.reg === b.reg;
      if (!same && !isSecurityCookie(va, b, block)) {
        fs.add(textKey('characteristic', 'nzxor'), va);
      }
    }

    // fs / gs access and peb access
    if (segment !== null) {
      fs.add(textKey('characteristic', `${segment} access`), va);
      if (mnem === 'push' || mnem === 'mov') {
        const peb = segment === 'fs' ? 0x30 : 0x60;
        for (let i = 0; i < count; i++) {
          const o = ops[i]!;
          const hit =
            (o.kind === Operand.RegMem && o.disp === peb) ||
            (o.kind === Operand.ImmMem && o.value === BigInt(peb)) ||
            (segment === 'gs' && o.kind === Operand.Sib && o.reg === 0 && o.value === BigInt(peb));
          if (hit) fs.add(textKey('characteristic', 'peb access'), va);
        }
      }
    }

    // operands: numbers, offsets, strings
    for (let i = 0; i < count; i++) this.operandFeatures(fs, va, mnem, i, ops[i]!);

    // bytes
    if (!isCall) {
      for (let i = 0; i < count; i++) {
        const o = ops[i]!;
        let v: number;
        if (o.kind === Operand.Imm || o.kind === Operand.RipRel) v = Number(o.value);
        else if (o.kind === Operand.RegMem) v = o.disp;
        else if (o.kind === Operand.Sib) v = Number(o.value);
        else continue;
        for (const ref of this.probe.references(v)) {
          const hex = this.probe.referencedBytes(ref);
          if (hex !== null) fs.add(`bytes(${hex})`, va);
        }
      }
    }
    return fs;
  }

  private operandFeatures(
    fs: FeatureSet,
    va: number,
    mnem: string,
    i: number,
    o: OperandView,
  ): void {
    // numbers: immediates, and fixed addresses that are not mapped (like fs:[0x30])
    if (o.kind === Operand.Imm || o.kind === Operand.ImmMem) {
      const v = o.value;
      const stackAdjust =
        mnem === 'add' &&
        this.ops[0]!.kind === Operand.Reg &&
        this.ops[0]!.regClass === RegisterClass.StackPointer;
      if (!this.probe.isValidPointer(Number(v)) && !stackAdjust) {
        addNumber(fs, i, v, va);
        if (mnem === 'add' && o.kind === Operand.Imm && v > 0n && v < BigInt(MAX_STRUCTURE_SIZE))
          addOffset(fs, i, v, va);
      }
    }
    // offsets: displacements from a register, except the stack and frame pointers
    if (o.kind === Operand.RegMem && o.regClass === RegisterClass.Other) {
      const v = BigInt(o.disp);
      addOffset(fs, i, v, va);
      if (mnem === 'lea' && i === 1 && !this.probe.isValidPointer(o.disp)) addNumber(fs, i, v, va);
    } else if (o.kind === Operand.Sib) {
      addOffset(fs, i, BigInt(o.disp), va);
    }
    // strings, directly or through pointers
    let ref = -1;
    if (
      o.kind === Operand.Imm ||
      o.kind === Operand.ImmMem ||
      o.kind === Operand.Sib ||
      o.kind === Operand.RipRel
    ) {
      ref = Number(o.value);
    }
    if (ref > 0) {
      for (const { text } of this.probe.references(ref)) {
        const s = text?.replace(/\0+$/, '');
        if (s !== undefined && s.length >= 4) fs.add(textKey('string', s), va);
      }
    }
  }

  /** The API names a call or jump leads to: through the IAT, a thunk chain, or a register. */
  private apiNames(
    va: number,
    isCall: boolean,
    op0: OperandView,
    fnIndex: number,
    block: number,
  ): string[] {
    let imp: ImportEntry | undefined;
    if (op0.kind === Operand.ImmMem || op0.kind === Operand.RipRel) {
      imp = this.imports.get(Number(op0.value));
    } else if (op0.kind === Operand.PcRel) {
      imp = this.followThunks(Number(op0.value));
    } else if (op0.kind === Operand.Reg && isCall) {
      // capa resolves only `call reg` (resolve_indirect_call asserts a call): a `jmp eax`, as in
      // a delay-load tail, names no API
      const slot = this.registerSource(va, op0.reg, fnIndex, block);
      if (slot !== null) imp = this.imports.get(slot);
    }
    if (!imp) return [];
    const symbol = imp.name ?? (imp.ordinal !== undefined ? `#${imp.ordinal}` : undefined);
    return symbol === undefined ? [] : generateSymbols(imp.dll, symbol, false);
  }

  /** Follows `jmp` thunks (and `endbr` pads) from `target` to an import, as capa does. */
  private followThunks(target: number): ImportEntry | undefined {
    let t = target;
    for (let hop = 0; hop < THUNK_CHAIN_DEPTH; hop++) {
      const imp = this.imports.get(t);
      if (imp) return imp;
      let d = this.code.at(t);
      if (d && d.mnemonic() === 'endbr32') d = this.code.at((t += 4));
      if (d && d.mnemonic() === 'endbr64') d = this.code.at((t += 4));
      if (!d || d.mnemonic() !== 'jmp') return undefined;
      const o = this.scratch;
      d.operand(0, o);
      if (o.kind === Operand.PcRel || o.kind === Operand.ImmMem || o.kind === Operand.RipRel)
        t = Number(o.value);
      else return undefined;
    }
    return undefined;
  }

  /**
   * For `call reg`: capa's `find_definition` — a breadth-first walk back from the call through
   * the instructions that flow to it (the previous one, then the jumps), to the first `mov`,
   * `lea`, `pop` or `xor` whose destination is the register. Only `mov reg, imm`,
   * `mov reg, [addr]` and `mov reg, [rip+x]` give a value (the immediate or the address); other
   * instructions writing the register (`add reg, 4`) do not stop the walk.
   */
  private registerSource(va: number, reg: number, fnIndex: number, block: number): number | null {
    const p = this.program;
    const o = this.scratch;
    let first = p.blockFirstInsn[block]!;
    while (first < p.blockFirstInsn[block + 1]! && p.insnAddress[first]! < va) first++;
    // queue of [block, index of the instruction after the one to visit]
    const queue: [number, number][] = [[block, first]];
    const seen = new Set<number>();
    for (let q = 0; q < queue.length; q++) {
      const [b, after] = queue[q]!;
      const i = after - 1;
      if (i < p.blockFirstInsn[b]!) {
        for (const pred of this.predecessors(fnIndex, b))
          queue.push([pred, p.blockFirstInsn[pred + 1]!]);
        continue;
      }
      if (seen.has(i)) continue;
      seen.add(i);
      const d = this.code.at(p.insnAddress[i]!);
      if (d === null) continue;
      const mnem = d.mnemonic();
      if (d.operandCount() > 0) d.operand(0, o);
      if (
        d.operandCount() === 0 ||
        o.kind !== Operand.Reg ||
        o.reg !== reg ||
        !DESTRUCTIVE_MNEMONICS.has(mnem)
      ) {
        queue.push([b, i]);
        continue;
      }
      if (mnem !== 'mov') return null;
      const src = this.scratchSource;
      d.operand(1, src);
      return src.kind === Operand.Imm || src.kind === Operand.ImmMem || src.kind === Operand.RipRel
        ? Number(src.value)
        : null;
    }
    return null;
  }

  /**
   * The blocks of the function that flow into `block`: the one falling through to it first (as
   * vivisect lists the adjacent previous instruction first), then those jumping to it.
   */
  private predecessors(fnIndex: number, block: number): number[] {
    const p = this.program;
    const fn = p.functions[fnIndex]!;
    const found: number[] = [];
    for (let e = fn.firstEdge; e < fn.firstEdge + fn.edgeCount; e++) {
      if (p.edgeTo[e] !== block) continue;
      const from = p.edgeFrom[e]!;
      if (p.blockEnd[from] === p.blockStart[block]) found.unshift(from);
      else found.push(from);
    }
    return found;
  }

  /**
   * capa's cross section flow: a branch target (vivisect's getBranches, not the fall-through)
   * in another memory map than the instruction, except calls through an import's IAT slot.
   * For `jmp [slot]` the target is the slot itself, as vivisect reports it; for a jump table,
   * the table.
   */
  private crossesSection(
    va: number,
    flow: number,
    op0: OperandView,
    isCall: boolean,
    jumpTable: number,
  ): boolean {
    if (
      flow !== Flow.Branch &&
      flow !== Flow.ConditionalBranch &&
      flow !== Flow.Call &&
      flow !== Flow.IndirectBranch &&
      flow !== Flow.IndirectCall
    ) {
      return false;
    }
    let target: number;
    if (op0.kind === Operand.PcRel) target = Number(op0.value);
    else if (op0.kind === Operand.ImmMem || op0.kind === Operand.RipRel) {
      target = Number(op0.value);
      if (isCall && this.imports.has(target)) return false;
    } else if (jumpTable >= 0) target = jumpTable;
    else return false;
    const here = this.probe.regionStart(va);
    const there = this.probe.regionStart(target);
    return here !== null && there !== null && here !== there;
  }
}

/** Whether a directed graph (adjacency lists) has a cycle through at least two nodes. */
function hasMultiNodeCycle(succ: number[][]): boolean {
  // Tarjan's strongly connected components, iteratively
  const n = succ.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  let next = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const [v, k] = top;
      const edges = succ[v]!;
      if (k < edges.length) {
        top[1]++;
        const w = edges[k]!;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, index[w]!);
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const u = work[work.length - 1]![0];
        low[u] = Math.min(low[u]!, low[v]!);
      }
      if (low[v] === index[v]) {
        let size = 0;
        for (;;) {
          const w = stack.pop()!;
          onStack[w] = 0;
          size++;
          if (w === v) break;
        }
        if (size >= 2) return true;
      }
    }
  }
  return false;
}
