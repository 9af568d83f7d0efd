import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Section } from '../../../src/format/image.js';
import { MappedMemory, type MemoryRegion } from '../../../src/format/pe/memory-view.js';

const file = Uint8Array.from({ length: 0x100 }, (_, i) => i);

function section(name: string, va: number): Section {
  return {
    name,
    va,
    virtualSize: 0,
    rawOffset: 0,
    rawSize: 0,
    characteristics: 0,
    executable: false,
    readable: true,
    writable: false,
  };
}

function region(
  va: number,
  size: number,
  from: number,
  to: number,
  s: Section | null,
): MemoryRegion {
  return { va, size, data: file.subarray(from, to), fileOffset: from, section: s };
}

describe('MappedMemory', () => {
  const a = section('a', 0x1000);
  const b = section('b', 0x1010);
  // a: 0x1000..0x1040 backed by file[0x00..0x20]; b: 0x1010..0x1020 backed by file[0x80..0x88], overwriting a.
  // A gap from 0x1040 to 0x2000, then c at 0x2000 with no file bytes.
  const c = section('c', 0x2000);
  const m = new MappedMemory(
    [
      region(0x1000, 0x40, 0x00, 0x20, a),
      region(0x1010, 0x10, 0x80, 0x88, b),
      region(0x2000, 0x10, 0, 0, c),
    ],
    4,
  );

  it('paints later regions over earlier ones', () => {
    assert.equal(m.readU8(0x100f), 0x0f);
    assert.equal(m.readU8(0x1010), 0x80);
    assert.equal(m.readU8(0x1018), 0); // b's zero-fill hides a's bytes
    assert.equal(m.readU8(0x1020), 0); // a past its data: zero-fill
    assert.equal(m.sectionAt(0x100f), a);
    assert.equal(m.sectionAt(0x1015), b);
    assert.equal(m.sectionAt(0x1025), a);
  });

  it('reads across regions and refuses gaps', () => {
    const r = m.read(0x100e, 4)!;
    assert.deepEqual([...r], [0x0e, 0x0f, 0x80, 0x81]);
    assert.equal(m.readU32(0x100e), 0x81800f0e);
    assert.equal(m.read(0x103e, 4), null); // runs into the gap
    assert.equal(m.isMapped(0x1040), false);
    assert.equal(m.readU16(0x1fff), null);
    assert.deepEqual([...m.read(0x2000, 16)!], new Array(16).fill(0));
    assert.equal(m.read(0x2000, 17), null);
    assert.equal(m.read(0x1000, -1), null);
  });

  it('returns subarrays of the input when it can', () => {
    const r = m.read(0x1000, 8)!;
    assert.equal(r.buffer, file.buffer);
  });

  it('reads 64-bit values and pointers', () => {
    assert.equal(m.readU64(0x1000), 0x0706050403020100n);
    assert.equal(m.readPointer(0x1004), 0x07060504);
    const slot = new Uint8Array(8);
    new DataView(slot.buffer).setBigUint64(0, 0x140001000n, true);
    const m64 = new MappedMemory([{ va: 0, size: 8, data: slot, fileOffset: 0, section: null }], 8);
    assert.equal(m64.readPointer(0), 0x140001000);
    const big = new MappedMemory(
      [{ va: 0, size: 8, data: new Uint8Array(8).fill(0xff), fileOffset: 0, section: null }],
      8,
    );
    assert.equal(big.readPointer(0), null); // > 2^53
    assert.equal(big.readU64(0), 0xffffffffffffffffn);
  });

  it('reads C strings with termination info', () => {
    const text = new TextEncoder().encode('abc\0defgh');
    const s = new MappedMemory(
      [
        { va: 0x10, size: 0x20, data: text, fileOffset: 0, section: null },
        {
          va: 0x30,
          size: 4,
          data: new TextEncoder().encode('wxyz'),
          fileOffset: 0x40,
          section: null,
        },
      ],
      4,
    );
    assert.deepEqual(s.readCString(0x10, 100), { text: 'abc', terminated: true });
    assert.deepEqual(s.readCString(0x14, 3), { text: 'def', terminated: false });
    assert.deepEqual(s.readCString(0x14, 100), { text: 'defgh', terminated: true }); // zero-fill ends it
    assert.deepEqual(s.readCString(0x30, 100), { text: 'wxyz', terminated: false }); // end of memory
    assert.equal(s.readAsciiZ(0x0, 10), null);
    assert.equal(s.readAsciiZ(0x10, 2), 'ab');
  });

  it('translates between file offsets and VAs', () => {
    assert.equal(m.vaToFileOffset(0x1001), 0x01);
    assert.equal(m.vaToFileOffset(0x1011), 0x81);
    assert.equal(m.vaToFileOffset(0x1030), null);
    assert.equal(m.fileOffsetToVa(0x01), 0x1001);
    assert.equal(m.fileOffsetToVa(0x11), null); // a's byte at 0x1011 is hidden by b
    assert.equal(m.fileOffsetToVa(0x81), 0x1011);
    assert.equal(m.fileOffsetToVa(0xff), null);
  });
});
