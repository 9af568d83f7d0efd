import type { MemoryView } from '../format/image.js';
import { bytesToHex } from './feature.js';

/** The most bytes a `bytes` feature holds (capa's MAX_BYTES_FEATURE_SIZE). */
export const MAX_BYTES_FEATURE_SIZE = 0x100;
/** Bytes read at a time when scanning for the end of a string. */
const SCAN_CHUNK = 64;
/** How many pointers `derefs` follows. */
const MAX_DEREF_DEPTH = 10;

/** Python's `bytes.decode('utf-16')` of a string vivisect detected (no BOM: it starts printable). */
const utf16 = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true });

/** Python's `string.printable`: digits, letters, punctuation and whitespace. */
export function isPrintable(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || (b >= 0x09 && b <= 0x0d);
}

/**
 * Questions about data in an image's memory, answered as vivisect answers them for capa: is
 * there a string here, what does this pointer lead to, which bytes are referenced.
 */
/** One address of a pointer chain (see `MemoryProbe.references`). */
export interface Reference {
  va: number;
  /** vivisect sees a string here (ASCII or UTF-16). */
  isString: boolean;
  /** The string capa reads here, or null. */
  text: string | null;
}

export class MemoryProbe {
  /** Pointer chains by starting address: instructions refer to the same data again and again. */
  private readonly chains = new Map<number, readonly Reference[]>();
  /** `bytes` feature values by address, in hex (see `referencedBytes`). */
  private readonly bytesAt = new Map<number, string | null>();

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
   * The byte at `va + i` while `va + i` lies in `va`'s mapped region, else -1; reads the region
   * in growing chunks so that a short string costs a short read.
   */
  private scanner(va: number): ((i: number) => number) | null {
    const region = this.memory.regionAt(va);
    if (region === null) return null;
    const limit = region.end - va;
    let buf: Uint8Array = new Uint8Array(0);
    return (i: number): number => {
      if (i >= limit) return -1;
      if (i >= buf.length) {
        const size = Math.min(limit, Math.max(SCAN_CHUNK, buf.length * 4, i + 1));
        buf = this.memory.read(va, size) ?? new Uint8Array(0);
        if (i >= buf.length) return -1;
      }
      return buf[i]!;
    };
  }

  /**
   * vivisect's `detectString`: the length in bytes of the ASCII string at `va` — printable
   * characters (Python's `string.printable`) up to a NUL — when there are at least four of them,
   * or exactly as many as the Pascal (16-bit) or Delphi (32-bit) length stored just before `va`;
   * else -1. (vivisect also stops at locations its analysis defined; we have none.)
   */
  detectString(va: number): number {
    const at = this.scanner(va);
    if (at === null) return -1;
    let plen = -1;
    let dlen = -1;
    if (this.memory.regionAt(va - 4) !== null) {
      const prefix = this.memory.read(va - 4, 4);
      if (prefix !== null) {
        plen = prefix[2]! | (prefix[3]! << 8);
        dlen = (prefix[0]! | (prefix[1]! << 8) | (prefix[2]! << 16) | (prefix[3]! << 24)) >>> 0;
      }
    }
    for (let count = 0; ; count++) {
      const c = at(count);
      if (c < 0) return -1;
      if (c === 0 && (count >= 4 || count === dlen || count === plen)) return count;
      if (!isPrintable(c)) return -1;
    }
  }

  /**
   * vivisect's `detectUnicode`: the length in bytes of the "simple" UTF-16 string at `va` —
   * printable low bytes, each followed by the same byte as the first character's high byte
   * (usually 0), until a NUL low byte after more than four characters — or -1.
   */
  detectUnicode(va: number): number {
    const at = this.scanner(va);
    if (at === null) return -1;
    const charset = at(1);
    if (charset < 0) return -1;
    for (let count = 0; ; count += 2) {
      const c0 = at(count);
      if (c0 < 0) return -1;
      const c1 = at(count + 1);
      if (c1 < 0) return -1;
      if (c0 === 0) return count > 8 ? count : -1;
      if (!isPrintable(c0) || c1 !== charset) return -1;
    }
  }

  isProbablyString(va: number): boolean {
    return this.detectString(va) > 0;
  }

  /**
   * capa's `read_string`: the ASCII string at `va`, else the UTF-16 one, else null. Like capa,
   * the UTF-16 read takes two bytes more than vivisect detected (the terminator, whose high
   * byte need not be zero), decodes them strictly (a lone surrogate is no string) and keeps
   * what precedes the first NUL character.
   */
  readString(va: number): string | null {
    const alen = this.detectString(va);
    return this.textAt(va, alen, alen > 0 ? -1 : this.detectUnicode(va));
  }

  /** The text of a string vivisect detected: `alen` ASCII bytes, else `ulen` UTF-16 bytes. */
  private textAt(va: number, alen: number, ulen: number): string | null {
    if (alen > 0) {
      const bytes = this.memory.read(va, alen)!;
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return s;
    }
    if (ulen > 0) {
      const bytes = this.tail(va, ulen + 2);
      if (bytes === null || bytes.length % 2 !== 0) return null;
      let s: string;
      try {
        s = utf16.decode(bytes);
      } catch {
        return null;
      }
      const nul = s.indexOf('\0');
      return nul < 0 ? s : s.slice(0, nul);
    }
    return null;
  }

  /**
   * capa's `derefs` with what lies at each address: `p`, then what it points to, and so on —
   * while the addresses are mapped, stopping at a string (a string is not also a pointer), a
   * self-reference, or after ten hops. Cached by `p`.
   */
  references(p: number): readonly Reference[] {
    let chain = this.chains.get(p);
    if (chain) return chain;
    const out: Reference[] = [];
    for (let va = p, depth = 0; this.isValidPointer(va); depth++) {
      const alen = this.detectString(va);
      const ulen = alen > 0 ? -1 : this.detectUnicode(va);
      const isString = alen > 0 || ulen > 0;
      out.push({ va, isString, text: isString ? this.textAt(va, alen, ulen) : null });
      if (isString) break;
      const next = this.memory.readPointer(va);
      if (next === null || next === va || depth >= MAX_DEREF_DEPTH) break;
      va = next;
    }
    this.chains.set(p, (chain = out));
    return chain;
  }

  /** The addresses of `references(p)`. */
  *derefs(p: number): Generator<number> {
    for (const r of this.references(p)) yield r.va;
  }

  /**
   * The value, in hex, of a `bytes` feature for data referenced at `ref`: up to
   * MAX_BYTES_FEATURE_SIZE bytes, or null for a string or all zeros (capa extracts neither).
   * Cached by address.
   */
  referencedBytes(ref: Reference): string | null {
    let value = this.bytesAt.get(ref.va);
    if (value === undefined) {
      const buf = ref.isString ? null : this.readBytes(ref.va);
      value = buf === null || buf.every((x) => x === 0) ? null : bytesToHex(buf);
      this.bytesAt.set(ref.va, value);
    }
    return value;
  }

  /** Up to MAX_BYTES_FEATURE_SIZE bytes at `va`, not past the end of its region. */
  private readBytes(va: number): Uint8Array | null {
    return this.tail(va, MAX_BYTES_FEATURE_SIZE);
  }

  /** The start of the mapped region holding `va`, or null: vivisect's "section" of an address. */
  regionStart(va: number): number | null {
    return this.memory.regionAt(va)?.start ?? null;
  }
}
