import { isAsciiByte } from './strings.js';

/**
 * Strings a function builds on the stack with immediate moves (`mov byte [ebp-0x20], 0x5c`,
 * `mov dword [esp+8], 0x6c69616d`...): the bytes written are laid out by frame offset, and
 * each run of at least four printable characters — ASCII, or UTF-16LE with zero high bytes —
 * becomes a string, found where its first byte is written.
 */

/** Fewest characters that make a recovered stack string. */
export const MIN_STACK_STRING_LENGTH = 4;

export interface StackStringFound {
  value: string;
  /** Address of the instruction that writes the string's first byte. */
  address: number;
}

/** Collects the immediate writes of one block, per base register, then reads strings out. */
export class StackWrites {
  /** Printable bytes the block's immediate stack writes carry (capa's stack-string measure). */
  printable = 0;
  /** Base register class → frame offset → [byte, writing instruction]. */
  private readonly frames = new Map<number, Map<number, [number, number]>>();

  /** Records `size` bytes of `value` (little-endian) written at `base + offset` by `address`. */
  write(base: number, offset: number, value: bigint, size: number, address: number): void {
    let frame = this.frames.get(base);
    if (!frame) this.frames.set(base, (frame = new Map()));
    for (let i = 0; i < size; i++) {
      frame.set(offset + i, [Number((value >> BigInt(8 * i)) & 0xffn), address]);
    }
  }

  strings(): StackStringFound[] {
    const found: StackStringFound[] = [];
    for (const frame of this.frames.values()) {
      const offsets = [...frame.keys()].sort((a, b) => a - b);
      let i = 0;
      while (i < offsets.length) {
        // a run of consecutive offsets
        let j = i;
        while (j + 1 < offsets.length && offsets[j + 1] === offsets[j]! + 1) j++;
        const bytes = offsets.slice(i, j + 1).map((o) => frame.get(o)!);
        found.push(...readStrings(bytes));
        i = j + 1;
      }
    }
    return found;
  }
}

function readStrings(bytes: [number, number][]): StackStringFound[] {
  const out: StackStringFound[] = [];
  let k = 0;
  while (k < bytes.length) {
    // UTF-16LE: printable, zero, printable, zero...
    let u = k;
    let wide = '';
    while (u + 1 < bytes.length && isAsciiByte(bytes[u]![0]) && bytes[u + 1]![0] === 0) {
      wide += String.fromCharCode(bytes[u]![0]);
      u += 2;
    }
    if (wide.length >= MIN_STACK_STRING_LENGTH) {
      out.push({ value: wide, address: bytes[k]![1] });
      k = u;
      continue;
    }
    let a = k;
    let ascii = '';
    while (a < bytes.length && isAsciiByte(bytes[a]![0])) {
      ascii += String.fromCharCode(bytes[a]![0]);
      a++;
    }
    if (ascii.length >= MIN_STACK_STRING_LENGTH) {
      out.push({ value: ascii, address: bytes[k]![1] });
      k = a;
      continue;
    }
    k = Math.max(a, k + 1);
  }
  return out;
}
