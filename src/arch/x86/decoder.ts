/**
 * A thin wrapper over iced-x86: the only module that imports it.
 *
 * One `Decoder` per contiguous region of code and ONE reused `Instruction`; everything analysis
 * needs is read through number-returning getters. Facts that depend only on the instruction code
 * (flow kind, whether operand 0 is a near branch, the mnemonic string) are cached in tables keyed
 * by `ins.code`, so the hot loop makes as few calls into WASM as possible and allocates nothing.
 * BigInt-returning iced getters are only touched for indirect branches and explicit memory-address
 * queries.
 */

import {
  Code,
  Decoder,
  DecoderOptions,
  FlowControl,
  Instruction,
  MemorySizeExt,
  Mnemonic,
  OpKind,
  Register,
} from 'iced-x86';

/** How control leaves an instruction. */
export const Flow = {
  /** Falls through to the next instruction. */
  Next: 0,
  /** `jmp rel` (also far `jmp ptr16:32`, which has no near target). */
  Branch: 1,
  /** `jcc`, `loop`, `jecxz`...: target or fall through. */
  ConditionalBranch: 2,
  /** `call rel`. */
  Call: 3,
  /** `ret`, `iret`... */
  Return: 4,
  /** `jmp reg`, `jmp [mem]`. */
  IndirectBranch: 5,
  /** `call reg`, `call [mem]`. */
  IndirectCall: 6,
  /** `int n`, `int3`, `int1`, `into`. */
  Interrupt: 7,
  /** `ud2`, `hlt`-like exceptions and other instructions that do not continue. */
  Exception: 8,
} as const;
export type FlowKind = (typeof Flow)[keyof typeof Flow];

const CODE_COUNT = 1 << 13;
/** Per code: -1 = not yet seen, else FlowKind | NEAR_FLAG. */
const flowTable = new Int8Array(CODE_COUNT).fill(-1);
const NEAR_FLAG = 0x10;
const mnemonicTable: (string | undefined)[] = new Array<string | undefined>(CODE_COUNT);
/**
 * Per code: index of the wide (32/64-bit) immediate operand, 7 when none, -1 = not yet seen.
 * (Immediate operands depend only on the code; memory operands do not: `call r/m32` is one code
 * for `call eax` and `call [eax]`.)
 */
const immTable = new Int8Array(CODE_COUNT).fill(-1);
const NONE = 7;

function mapFlow(fc: FlowControl): FlowKind {
  switch (fc) {
    case FlowControl.Next:
    case FlowControl.XbeginXabortXend:
      return Flow.Next;
    case FlowControl.UnconditionalBranch:
      return Flow.Branch;
    case FlowControl.ConditionalBranch:
      return Flow.ConditionalBranch;
    case FlowControl.Call:
      return Flow.Call;
    case FlowControl.Return:
      return Flow.Return;
    case FlowControl.IndirectBranch:
      return Flow.IndirectBranch;
    case FlowControl.IndirectCall:
      return Flow.IndirectCall;
    case FlowControl.Interrupt:
      return Flow.Interrupt;
    default:
      return Flow.Exception;
  }
}

function isNearBranchKind(k: OpKind): boolean {
  return k === OpKind.NearBranch16 || k === OpKind.NearBranch32 || k === OpKind.NearBranch64;
}

const TWO32 = 0x1_0000_0000;

/** A decoder over one contiguous region `[baseVa, baseVa + bytes.length)`. */
export interface X86Decoder {
  readonly bitness: 32 | 64;
  readonly baseVa: number;
  /** One past the last VA of the region. */
  readonly endVa: number;
  /** Whether `va` lies in the region. */
  contains(va: number): boolean;
  /** Position the decoder at `va`; false when `va` is outside the region. */
  seek(va: number): boolean;
  /**
   * Decode the instruction at the current position and advance past it. Returns its length, or
   * 0 when it is invalid or runs past the end of the region (the position is then unspecified).
   */
  next(): number;
  /** VA of the instruction last decoded. */
  readonly va: number;
  /** Length of the instruction last decoded (0 if invalid). */
  readonly length: number;
  /** iced `Code` of the instruction last decoded (0 = INVALID). */
  readonly code: number;
  /** Flow kind of the instruction last decoded. */
  readonly flow: FlowKind;
  /** `int3` (0xCC). */
  readonly isBreakpoint: boolean;
  /** Direct (near) target of a jmp/jcc/call, or -1. */
  branchTarget(): number;
  /**
   * For an instruction whose operand `op` (default: its memory operand, wherever it is) is memory
   * with a fixed address — `[disp32]` in 32-bit code or `[rip+disp]` in 64-bit code — that
   * address; else -1. (x86 instructions have at most one memory operand.)
   */
  memoryAddress(op?: number): number;
  /** Whether operand `op` is a register (e.g. `call esi`). */
  operandIsRegister(op: number): boolean;
  /**
   * The value of the instruction's 32- or 64-bit immediate operand (`push imm32`,
   * `mov reg, imm32`...), unsigned (a sign-extended negative `imm32to64` gives -1); -1 when it has
   * none. 8- and 16-bit immediates are not reported: they cannot be addresses. Cheap: which
   * operand is an immediate is cached per instruction code.
   */
  wideImmediate(): number;
  /**
   * For a `jmp [index*ptrsize + table]` (no base register: the x86 jump-table form), the table
   * VA; else -1.
   */
  jumpTable(): number;
  /** Lower-case iced mnemonic (`mov`, `call`, `int3`...). */
  mnemonic(): string;
  /** Number of operands of the instruction last decoded. */
  operandCount(): number;
  /**
   * Describes operand `i` in vivisect's terms (the classes capa's features are defined by) into
   * `out`, which is reused: nothing is allocated for non-immediate operands.
   */
  operand(i: number, out: OperandView): void;
  /** The segment override of the memory operand: `fs`, `gs`, or null. */
  segmentPrefix(): 'fs' | 'gs' | null;
  /** Release WASM memory. The decoder is unusable afterwards. */
  free(): void;
}

/** Operand classes as vivisect names them (capa's x86 features are defined on these). */
export const Operand = {
  None: 0,
  /** A register: `eax`. */
  Reg: 1,
  /** An immediate: `0x10`. */
  Imm: 2,
  /** Memory at a fixed address: `[0x403000]`. */
  ImmMem: 3,
  /** Memory at a register plus displacement: `[esi+4]`. */
  RegMem: 4,
  /**
   * Memory through a SIB byte: `[esi+ecx*4+8]`, `[esp+8]`, `[0x401000+ebx*2]`, and a 64-bit
   * `[disp32]` (which needs one).
   */
  Sib: 5,
  /** 64-bit RIP-relative memory: `[rip+0x1000]`. */
  RipRel: 6,
  /** A relative branch target: `call 0x401000`. */
  PcRel: 7,
} as const;
export type OperandKind = (typeof Operand)[keyof typeof Operand];

/** Register classes capa's features care about. */
export const RegisterClass = { Other: 0, StackPointer: 1, FramePointer: 2 } as const;

export interface OperandView {
  kind: OperandKind;
  /** Size in bytes of the operand. */
  size: number;
  /** Reg: the register; memory: the base register (iced register ids; 0 = none). */
  reg: number;
  /** Memory: the index register (0 = none). */
  index: number;
  /** Class of `reg`: stack pointer (esp/rsp), frame pointer (ebp/rbp) or other. */
  regClass: number;
  /**
   * Imm: the value, unsigned at the operand's size; ImmMem/RipRel: the address; Sib without
   * base: the absolute part; PcRel: the target. 0 otherwise.
   */
  value: bigint;
  /** RegMem/Sib with a base: the signed displacement. */
  disp: number;
}

export function newOperandView(): OperandView {
  return { kind: Operand.None, size: 0, reg: 0, index: 0, regClass: 0, value: 0n, disp: 0 };
}

function registerClass(reg: number): number {
  if (reg === Register.ESP || reg === Register.RSP || reg === Register.SP)
    return RegisterClass.StackPointer;
  if (reg === Register.EBP || reg === Register.RBP || reg === Register.BP)
    return RegisterClass.FramePointer;
  return RegisterClass.Other;
}

function isR12(reg: number): boolean {
  return reg === Register.R12 || reg === Register.R12D;
}

/** Size in bytes of a general-purpose or vector register (0 when unknown). */
function registerSize(reg: number): number {
  if (reg >= Register.AL && reg <= Register.R15L) return 1;
  if (reg >= Register.AX && reg <= Register.R15W) return 2;
  if (reg >= Register.EAX && reg <= Register.R15D) return 4;
  if (reg >= Register.RAX && reg <= Register.R15) return 8;
  if (reg >= Register.XMM0 && reg <= Register.XMM31) return 16;
  if (reg >= Register.YMM0 && reg <= Register.YMM31) return 32;
  return 0;
}

/** Immediate operand kinds → the operand's size in bytes (sign-extended ones: the extended size). */
const IMMEDIATE_SIZES = new Map<OpKind, number>([
  [OpKind.Immediate8, 1],
  [OpKind.Immediate8_2nd, 1],
  [OpKind.Immediate16, 2],
  [OpKind.Immediate8to16, 2],
  [OpKind.Immediate32, 4],
  [OpKind.Immediate8to32, 4],
  [OpKind.Immediate64, 8],
  [OpKind.Immediate8to64, 8],
  [OpKind.Immediate32to64, 8],
]);

/** `mov` between the accumulator and a full-width absolute address (A0–A3). */
const MOFFS_CODES: ReadonlySet<number> = new Set([
  Code.Mov_AL_moffs8,
  Code.Mov_AX_moffs16,
  Code.Mov_EAX_moffs32,
  Code.Mov_RAX_moffs64,
  Code.Mov_moffs8_AL,
  Code.Mov_moffs16_AX,
  Code.Mov_moffs32_EAX,
  Code.Mov_moffs64_RAX,
]);

const memorySizes = new Map<number, number>();

function memorySizeBytes(ins: Instruction): number {
  const m = ins.memorySize;
  let size = memorySizes.get(m);
  if (size === undefined) memorySizes.set(m, (size = MemorySizeExt.size(m)));
  return size;
}

class IcedDecoder implements X86Decoder {
  readonly bitness: 32 | 64;
  readonly baseVa: number;
  readonly endVa: number;
  va = 0;
  length = 0;
  code = 0;
  flow: FlowKind = Flow.Next;
  private near = false;
  private nextVa = 0;
  private readonly decoder: Decoder;
  private readonly ins: Instruction;
  private freed = false;

  constructor(bitness: 32 | 64, bytes: Uint8Array, baseVa: number) {
    this.bitness = bitness;
    this.baseVa = baseVa;
    this.endVa = baseVa + bytes.length;
    this.decoder = new Decoder(bitness, bytes, DecoderOptions.None);
    this.ins = new Instruction();
    this.seek(baseVa);
  }

  contains(va: number): boolean {
    return va >= this.baseVa && va < this.endVa;
  }

  seek(va: number): boolean {
    if (!this.contains(va)) return false;
    this.decoder.position = va - this.baseVa;
    this.decoder.ip = BigInt(va);
    this.nextVa = va;
    return true;
  }

  next(): number {
    const va = this.nextVa;
    this.va = va;
    if (va >= this.endVa) {
      this.length = 0;
      this.code = 0;
      this.flow = Flow.Exception;
      return 0;
    }
    const ins = this.ins;
    this.decoder.decodeOut(ins);
    const code = ins.code;
    this.code = code;
    if (code === Code.INVALID) {
      this.length = 0;
      this.flow = Flow.Exception;
      this.near = false;
      return 0;
    }
    const len = ins.length;
    this.length = len;
    this.nextVa = va + len;
    let f = code < CODE_COUNT ? flowTable[code]! : -1;
    if (f < 0) {
      const kind = mapFlow(ins.flowControl);
      f = kind;
      if (kind === Flow.Branch || kind === Flow.ConditionalBranch || kind === Flow.Call) {
        if (isNearBranchKind(ins.op0Kind)) f |= NEAR_FLAG;
      }
      if (code < CODE_COUNT) flowTable[code] = f;
    }
    this.flow = (f & 0x0f) as FlowKind;
    this.near = (f & NEAR_FLAG) !== 0;
    return len;
  }

  get isBreakpoint(): boolean {
    return this.code === Code.Int3;
  }

  branchTarget(): number {
    if (!this.near || this.length === 0) return -1;
    const low = this.ins.nearBranch32 >>> 0;
    if (this.bitness === 32) return low;
    // 64-bit: the target is within ±2^31 of the next instruction; rebuild the high half from it
    // instead of reading the BigInt `nearBranch64`.
    const next = this.va + this.length;
    const high = Math.floor(next / TWO32) * TWO32;
    let best = high + low;
    if (best - next >= 0x8000_0000) best -= TWO32;
    else if (next - best > 0x8000_0000) best += TWO32;
    return best < 0 ? -1 : best;
  }

  memoryAddress(op = -1): number {
    if (this.length === 0) return -1;
    const ins = this.ins;
    if (op >= 0 && (op >= ins.opCount || ins.opKind(op) !== OpKind.Memory)) return -1;
    const base = ins.memoryBase;
    if (base === Register.RIP || base === Register.EIP) {
      const a = ins.ipRelMemoryAddress;
      return a <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a) : -1;
    }
    if (base !== Register.None || ins.memoryIndex !== Register.None) return -1;
    // No base, no index and no displacement: no memory operand at all (iced leaves the memory
    // fields empty), so the operand kinds need not be walked.
    if (op < 0 && ins.memoryDisplSize === 0) return -1;
    const d = ins.memoryDisplacementU64;
    if (this.bitness === 32) return Number(d & 0xffff_ffffn);
    return d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : -1;
  }

  operandIsRegister(op: number): boolean {
    if (this.length === 0) return false;
    const ins = this.ins;
    return op >= 0 && op < ins.opCount && ins.opKind(op) === OpKind.Register;
  }

  wideImmediate(): number {
    if (this.length === 0) return -1;
    const code = this.code;
    const ins = this.ins;
    let r = code < CODE_COUNT ? immTable[code]! : -1;
    if (r < 0) {
      r = NONE;
      for (let i = 0; i < ins.opCount; i++) {
        const k = ins.opKind(i);
        if (k === OpKind.Immediate32 || k === OpKind.Immediate32to64 || k === OpKind.Immediate64) {
          r = i;
          break;
        }
      }
      if (code < CODE_COUNT) immTable[code] = r;
    }
    if (r === NONE) return -1;
    const kind = ins.opKind(r);
    if (kind === OpKind.Immediate32) return ins.immediate32 >>> 0;
    if (kind === OpKind.Immediate32to64) {
      const v = ins.immediate32 | 0;
      return v < 0 ? -1 : v;
    }
    const v = ins.immediate64;
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : -1;
  }

  jumpTable(): number {
    if (this.length === 0) return -1;
    const ins = this.ins;
    if (ins.opCount < 1 || ins.opKind(0) !== OpKind.Memory) return -1;
    if (ins.memoryBase !== Register.None || ins.memoryIndex === Register.None) return -1;
    if (ins.memoryIndexScale !== this.bitness / 8) return -1;
    const d = ins.memoryDisplacementU64;
    if (this.bitness === 32) return Number(d & 0xffff_ffffn);
    return d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : -1;
  }

  operandCount(): number {
    return this.length === 0 ? 0 : this.ins.opCount;
  }

  operand(i: number, out: OperandView): void {
    const ins = this.ins;
    out.kind = Operand.None;
    out.size = 0;
    out.reg = 0;
    out.index = 0;
    out.regClass = RegisterClass.Other;
    out.value = 0n;
    out.disp = 0;
    if (this.length === 0 || i < 0 || i >= ins.opCount) return;
    const kind = ins.opKind(i);
    switch (kind) {
      case OpKind.Register: {
        const reg = ins.opRegister(i);
        out.kind = Operand.Reg;
        out.reg = reg;
        out.regClass = registerClass(reg);
        out.size = registerSize(reg);
        return;
      }
      case OpKind.NearBranch16:
      case OpKind.NearBranch32:
      case OpKind.NearBranch64: {
        out.kind = Operand.PcRel;
        const t = this.branchTarget();
        out.value = BigInt(t < 0 ? 0 : t);
        return;
      }
      case OpKind.Memory: {
        const base = ins.memoryBase;
        const index = ins.memoryIndex;
        out.size = memorySizeBytes(ins);
        if (base === Register.RIP || base === Register.EIP) {
          out.kind = Operand.RipRel;
          out.value = ins.ipRelMemoryAddress;
          return;
        }
        const mask = this.bitness === 32 ? 0xffff_ffffn : 0xffff_ffff_ffff_ffffn;
        const dispU = ins.memoryDisplacementU64 & mask;
        const signed =
          this.bitness === 32 ? Number(BigInt.asIntN(32, dispU)) : Number(BigInt.asIntN(64, dispU));
        out.reg = base;
        out.index = index;
        out.regClass = registerClass(base);
        // a fixed address: in 64-bit code only the `mov` accumulator forms (A0–A3) carry one
        // plainly; any other `[disp32]` needs a SIB byte, and vivisect decodes it as such
        const plainAbsolute =
          base === Register.None &&
          index === Register.None &&
          (this.bitness === 32 || MOFFS_CODES.has(this.code));
        if (plainAbsolute) {
          out.kind = Operand.ImmMem;
          out.value = dispU;
        } else if (
          base === Register.None ||
          index !== Register.None ||
          out.regClass === RegisterClass.StackPointer ||
          isR12(base)
        ) {
          // encoded with a SIB byte
          out.kind = Operand.Sib;
          if (base === Register.None) out.value = dispU;
          else out.disp = signed;
        } else {
          out.kind = Operand.RegMem;
          out.disp = signed;
        }
        return;
      }
      default: {
        const size = IMMEDIATE_SIZES.get(kind);
        if (size === undefined) return;
        out.kind = Operand.Imm;
        out.size = size;
        out.value = BigInt.asUintN(8 * size, ins.immediate(i));
        return;
      }
    }
  }

  segmentPrefix(): 'fs' | 'gs' | null {
    if (this.length === 0) return null;
    const seg = this.ins.segmentPrefix;
    return seg === Register.FS ? 'fs' : seg === Register.GS ? 'gs' : null;
  }

  mnemonic(): string {
    const code = this.code;
    let m = code < CODE_COUNT ? mnemonicTable[code] : undefined;
    if (m === undefined) {
      m = (Mnemonic[this.ins.mnemonic] ?? 'invalid').toLowerCase();
      if (code < CODE_COUNT && this.length !== 0) mnemonicTable[code] = m;
    }
    return m;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.ins.free();
    this.decoder.free();
  }
}

/**
 * A decoder over `bytes`, whose first byte is at `baseVa`. Call `free()` when done: iced holds a
 * copy of `bytes` in WASM memory that is not garbage collected.
 */
export function createDecoder(bitness: 32 | 64, bytes: Uint8Array, baseVa: number): X86Decoder {
  return new IcedDecoder(bitness, bytes, baseVa);
}
