import type { MemoryView } from '../format/image.js';

/** The most bytes a `bytes` feature holds (capa's MAX_BYTES_FEATURE_SIZE). */
export const MAX_BYTES_FEATURE_SIZE = 0x100;
/** How far a string is read. */
const MAX_STRING_LENGTH = 0x10000;
/** How many pointers `derefs` follows. */
const MAX_DEREF_DEPTH = 10;

/** Python's `string.printable`: digits, letters, punctuation and whitespace. */
function isPrintable(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || (b >= 0x09 && b <= 0x0d);
}

/**
 * Questions about data in an image's memory, answered as vivisect answers them for capa: is
 * there a string here, what does this pointer lead to, which bytes are referenced.
 */
export class MemoryProbe {
  constructor(private readonly memory: MemoryView) {}

  isValidPointer(va: number): boolean {
    return Number.isSafeInteger(va) && va >= 0 && this.memory.isMapped(va);
  }

  /** Bytes from `va` to the end of its mapped region, at most `max`. */
  private tail(va: number, max: number): Uint8Array | null {
    const region = this.memory.regionAt(va);
    if (region === null) return null;
    return this.memory.read(va, Math.min(max, region.end - va));
  }

  /**
   * Length in bytes of the ASCII string at `va` — printable characters up to a NUL, at least
   * four of them — or -1.
   */
  detectString(va: number): number {
    const bytes = this.tail(va, MAX_STRING_LENGTH);
    if (bytes === null) return -1;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (c === 0) return i >= 4 ? i : -1;
      if (!isPrintable(c)) return -1;
    }
    return -1;
  }

  /**
   * Length in bytes of the simple UTF-16LE string at `va` — printable characters each followed
   * by the same high byte, ended by a NUL character, more than four characters — or -1.
   */
  detectUnicode(va: number): number {
    const bytes = this.tail(va, MAX_STRING_LENGTH);
    if (bytes === null || bytes.length < 2) return -1;
    const high = bytes[1]!;
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const c = bytes[i]!;
      if (c === 0) return i > 8 ? i : -1;
      if (!isPrintable(c) || bytes[i + 1] !== high) return -1;
    }
    return -1;
  }

  isProbablyString(va: number): boolean {
    return this.detectString(va) > 0;
  }

  isProbablyUnicode(va: number): boolean {
    return this.detectUnicode(va) > 0;
  }

  /** The string at `va` (ASCII, else UTF-16LE), or null. */
  readString(va: number): string | null {
    const alen = this.detectString(va);
    if (alen > 0) {
      const bytes = this.memory.read(va, alen)!;
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return s;
    }
    const ulen = this.detectUnicode(va);
    if (ulen > 0) {
      const bytes = this.memory.read(va, ulen)!;
      let s = '';
      for (let i = 0; i + 1 < bytes.length; i += 2)
        s += String.fromCharCode(bytes[i]! | (bytes[i + 1]! << 8));
      return s;
    }
    return null;
  }

  /**
   * `p`, then what it points to, and so on — while the addresses are mapped, stopping at a
   * string (a string is not also a pointer), a self-reference, or after ten hops.
   */
  *derefs(p: number): Generator<number> {
    for (let depth = 0; ; depth++) {
      if (!this.isValidPointer(p)) return;
      yield p;
      if (this.isProbablyString(p) || this.isProbablyUnicode(p)) return;
      const next = this.memory.readPointer(p);
      if (next === null || next === p || depth >= MAX_DEREF_DEPTH) return;
      p = next;
    }
  }

  /** Up to MAX_BYTES_FEATURE_SIZE bytes at `va`, not past the end of its region. */
  readBytes(va: number): Uint8Array | null {
    return this.tail(va, MAX_BYTES_FEATURE_SIZE);
  }

  /** The start of the mapped region holding `va`, or null: vivisect's "section" of an address. */
  regionStart(va: number): number | null {
    return this.memory.regionAt(va)?.start ?? null;
  }
}
