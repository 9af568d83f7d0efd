/**
 * vivisect's string detection as capa relies on it (`detectString`, `detectUnicode`, capa's
 * `read_string` and `derefs`), and capa's stack-string byte counting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemoryView, Section } from '../../src/format/image.js';
import { MemoryProbe } from '../../src/features/memory-probe.js';
import { printableLength } from '../../src/features/x86-features.js';

const BASE = 0x1000;

/** One mapped region of `bytes` at BASE, with 32-bit pointers. */
function memory(bytes: number[]): MemoryView {
  const data = Uint8Array.from(bytes);
  const end = BASE + data.length;
  const inside = (va: number) => va >= BASE && va < end;
  const read = (va: number, length: number) =>
    inside(va) && va + length <= end ? data.subarray(va - BASE, va - BASE + length) : null;
  return {
    pointerSize: 4,
    isMapped: inside,
    sectionAt: () => null as Section | null,
    regionAt: (va) => (inside(va) ? { start: BASE, end } : null),
    read,
    readU8: (va) => read(va, 1)?.[0] ?? null,
    readU16: () => null,
    readU32: () => null,
    readU64: () => null,
    readPointer: (va) => {
      const b = read(va, 4);
      return b ? (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0 : null;
    },
    readAsciiZ: () => null,
    readUtf16Z: () => null,
    fileOffsetToVa: () => null,
    vaToFileOffset: () => null,
  };
}

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const utf16 = (s: string, high = 0) => Array.from(s, (c) => [c.charCodeAt(0), high]).flat();

describe('detectString (vivisect)', () => {
  it('needs four printable characters before the NUL', () => {
    const p = new MemoryProbe(memory([...ascii('abcd'), 0, ...ascii('abc'), 0]));
    assert.equal(p.detectString(BASE), 4);
    assert.equal(p.detectString(BASE + 5), -1);
    assert.equal(p.readString(BASE), 'abcd');
  });

  it('counts tabs and newlines as printable, not DEL or high bytes', () => {
    const p = new MemoryProbe(memory([...ascii('a\tb\r\n'), 0, ...ascii('ab'), 0x7f, 0x61, 0]));
    assert.equal(p.detectString(BASE), 5);
    assert.equal(p.detectString(BASE + 6), -1);
  });

  it('accepts a shorter string whose Pascal or Delphi length precedes it', () => {
    // 16-bit Pascal length 3 just before "abc"
    const pascal = new MemoryProbe(memory([0, 0, 3, 0, ...ascii('abc'), 0]));
    assert.equal(pascal.detectString(BASE + 4), 3);
    assert.equal(pascal.isProbablyString(BASE + 4), true);
    // a string feature still needs four characters
    assert.equal(pascal.readString(BASE + 4), 'abc');
    const delphi = new MemoryProbe(memory([2, 0, 0, 0, ...ascii('ab'), 0]));
    assert.equal(delphi.detectString(BASE + 4), 2);
    const none = new MemoryProbe(memory([9, 0, 0, 0, ...ascii('ab'), 0]));
    assert.equal(none.detectString(BASE + 4), -1);
  });

  it('finds no string that runs into the end of its region', () => {
    const p = new MemoryProbe(memory(ascii('abcdefgh')));
    assert.equal(p.detectString(BASE), -1);
  });

  it('scans strings longer than one read chunk', () => {
    const long = 'x'.repeat(1000);
    const p = new MemoryProbe(memory([...ascii(long), 0]));
    assert.equal(p.readString(BASE), long);
  });
});

describe('detectUnicode (vivisect) and read_string (capa)', () => {
  it('needs more than four characters before the NUL', () => {
    const p = new MemoryProbe(memory([...utf16('abcde'), 0, 0, ...utf16('abcd'), 0, 0]));
    assert.equal(p.detectUnicode(BASE), 10);
    assert.equal(p.readString(BASE), 'abcde');
    assert.equal(p.detectUnicode(BASE + 12), -1);
  });

  it('keeps the terminator character when its high byte is not zero, as capa does', () => {
    // capa reads two bytes past vivisect's length and cuts at the first U+0000 only
    const p = new MemoryProbe(memory([...utf16('abcde'), 0, 0x41, 0, 0]));
    assert.equal(p.readString(BASE), 'abcde\u4100');
  });

  it('takes the high byte of the first character as the charset', () => {
    const p = new MemoryProbe(memory([...utf16('abcde', 0x80), 0, 0]));
    assert.equal(p.detectUnicode(BASE), 10);
    assert.equal(p.readString(BASE), '\u8061\u8062\u8063\u8064\u8065');
    // a printable high byte makes it an ASCII string first
    const asAscii = new MemoryProbe(memory([...utf16('abcde', 0x30), 0, 0]));
    assert.equal(asAscii.readString(BASE), 'a0b0c0d0e0');
    const mixed = new MemoryProbe(memory([0x61, 0, 0x62, 1, ...utf16('cde'), 0, 0]));
    assert.equal(mixed.detectUnicode(BASE), -1);
  });

  it('is no string when the UTF-16 is not well formed (a lone surrogate)', () => {
    const p = new MemoryProbe(memory([...utf16('abcde', 0xd8), 0, 0]));
    assert.equal(p.detectUnicode(BASE), 10);
    assert.equal(p.readString(BASE), null);
  });
});

describe('derefs (capa)', () => {
  it('follows pointers to a string and stops there', () => {
    // 0x1000: pointer to 0x1008; 0x1004: pointer to itself; 0x1008: "INPUT"
    const p = new MemoryProbe(memory([8, 0x10, 0, 0, 4, 0x10, 0, 0, ...ascii('INPUT'), 0]));
    assert.deepEqual([...p.derefs(BASE)], [BASE, BASE + 8]);
    assert.deepEqual([...p.derefs(BASE + 4)], [BASE + 4]);
    assert.deepEqual([...p.derefs(0x10)], []);
  });
});

describe('stack strings (capa get_printable_len)', () => {
  it('counts the bytes of an all-printable immediate', () => {
    assert.equal(printableLength(0x64636261n, 4), 4);
    assert.equal(printableLength(0x61n, 1), 1);
    assert.equal(printableLength(0x00636261n, 4), 0);
  });

  it('counts UTF-16LE immediates as half their size', () => {
    assert.equal(printableLength(0x00620061n, 4), 2);
    assert.equal(printableLength(0x0064006300620061n, 8), 4);
    assert.equal(printableLength(0x0061n, 2), 1);
    assert.equal(printableLength(0x01620061n, 4), 0);
    assert.equal(printableLength(0x00n, 1), 0);
  });
});
