import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FormatError } from '../../../src/format/errors.js';
import type { Image } from '../../../src/format/image.js';
import { parsePe } from '../../../src/format/pe/index.js';
import {
  addExports,
  addImports,
  addResources,
  addTls,
  COFF_OFFSET,
  DATA,
  PeBuilder,
  TEXT,
} from './pe-builder.js';

/** Parses and returns the image or the FormatError; any other exception fails the test. */
function parseOrRefuse(bytes: Uint8Array): Image | FormatError {
  try {
    return parsePe(bytes);
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
}

function assertNoInternalErrors(image: Image): void {
  const internal = image.anomalies.filter((a) => a.startsWith('internal error'));
  assert.deepEqual(internal, []);
}

/** Touches everything an analysis would read, so lazy bugs surface too. */
function exercise(image: Image): void {
  const m = image.memory;
  for (const s of image.sections) {
    m.read(s.va, Math.min(s.virtualSize, 0x10000));
    m.readAsciiZ(s.va, 64);
    m.readUtf16Z(s.va, 64);
    m.readPointer(s.va + s.virtualSize - 2);
  }
  if (image.entryPoint !== null) m.read(image.entryPoint, 16);
  for (const imp of image.imports.slice(0, 100)) m.readPointer(imp.iatAddress);
}

function richImage(): { bytes: Uint8Array; b: PeBuilder } {
  const b = new PeBuilder();
  const text = b.addSection('.text', { characteristics: TEXT });
  b.entryRva = b.put(text, Uint8Array.of(0xc3));
  const rdata = b.addSection('.rdata');
  addImports(b, rdata, [
    { dll: 'KERNEL32.dll', symbols: ['CreateFileA', 'ExitProcess'] },
    { dll: 'WS2_32.dll', symbols: [{ ordinal: 1 }] },
  ]);
  addExports(b, rdata, 'x.dll', [
    { name: 'f', rva: b.entryRva },
    { name: 'g', forwarder: 'K.h' },
  ]);
  const data = b.addSection('.data', { characteristics: DATA });
  addTls(b, data, [b.imageBase + b.entryRva]);
  const rsrc = b.addSection('.rsrc');
  addResources(b, rsrc, [{ type: 3, name: 1, language: 0, data: Uint8Array.of(1, 2, 3) }]);
  return { bytes: b.build(), b };
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('hostile and non-PE input', () => {
  it('refuses empty input', () => {
    assert.throws(
      () => parsePe(new Uint8Array(0)),
      (e: unknown) => e instanceof FormatError && e.code === 'not-pe',
    );
  });

  it('refuses ELF with a one-line reason', () => {
    const elf = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array<number>(56).fill(0));
    assert.throws(
      () => parsePe(elf),
      (e: unknown) =>
        e instanceof FormatError &&
        e.code === 'not-pe' &&
        e.message === 'ELF file: not supported yet',
    );
  });

  it('refuses garbage', () => {
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff);
    assert.throws(
      () => parsePe(garbage),
      (e: unknown) => e instanceof FormatError && e.code === 'not-pe',
    );
  });

  it('refuses an MZ file without a PE header', () => {
    const dos = new Uint8Array(0x200);
    dos[0] = 0x4d;
    dos[1] = 0x5a;
    new DataView(dos.buffer).setUint32(0x3c, 0x100, true);
    assert.throws(
      () => parsePe(dos),
      (e: unknown) => e instanceof FormatError && e.code === 'not-pe',
    );
  });

  it('refuses ARM, ARM64 and other machines, naming them', () => {
    for (const [machine, name] of [
      [0x1c0, 'ARM'],
      [0x1c4, 'ARMv7'],
      [0xaa64, 'ARM64'],
      [0x200, 'IA-64'],
      [0x1234, '0x1234'],
    ] as const) {
      const b = new PeBuilder({ machine });
      b.addSection('.text', { characteristics: TEXT });
      assert.throws(
        () => parsePe(b.build()),
        (e: unknown) =>
          e instanceof FormatError && e.code === 'unsupported-arch' && e.message.includes(name),
      );
    }
  });

  it('refuses e_lfanew out of range', () => {
    const { bytes } = richImage();
    for (const lfanew of [0xffffffff, bytes.length, bytes.length - 2, 0x7ffffff0]) {
      const copy = bytes.slice();
      new DataView(copy.buffer).setUint32(0x3c, lfanew, true);
      const r = parseOrRefuse(copy);
      assert.ok(r instanceof FormatError, `e_lfanew ${lfanew.toString(16)}`);
    }
  });

  it('survives truncation at every offset of the first 0x400 bytes, and coarser beyond', () => {
    const { bytes } = richImage();
    const codes = new Map<string, number>();
    for (let n = 0; n <= bytes.length; n += n < 0x400 ? 1 : 0x40) {
      const r = parseOrRefuse(bytes.slice(0, n));
      if (r instanceof FormatError) {
        codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        assert.ok(!r.message.includes('\n'));
      } else {
        assertNoInternalErrors(r);
        exercise(r);
      }
    }
    assert.ok((codes.get('truncated') ?? 0) > 0);
  });

  it('caps a section count of 0xFFFF and records it', () => {
    const { bytes } = richImage();
    new DataView(bytes.buffer).setUint16(COFF_OFFSET + 2, 0xffff, true);
    const r = parseOrRefuse(bytes);
    if (r instanceof FormatError) return; // refusing is acceptable too
    assert.ok(r.sections.length <= 1024);
    assert.ok(r.anomalies.some((a) => a.includes('65535')));
    assertNoInternalErrors(r);
    exercise(r);
  });

  it('stops an import descriptor chain without a terminator', () => {
    const b = new PeBuilder();
    const text = b.addSection('.text', { characteristics: TEXT });
    b.entryRva = b.put(text, Uint8Array.of(0xc3));
    const idata = b.addSection('.idata', { virtualSize: 0x20000 });
    const name = b.putAscii(idata, 'KERNEL32.dll');
    const hint = b.reserve(idata, 2, 2);
    b.putAscii(idata, 'Sleep', 1);
    const thunks = b.reserve(idata, 8, 4);
    b.writeU32(thunks, hint);
    const start = b.reserve(idata, 0, 4);
    // Fill the whole rest of the section (file-backed) with identical, non-zero descriptors.
    const count = Math.floor((0x20000 - (start - idata.rva)) / 20);
    for (let i = 0; i < count; i++) {
      const d = b.reserve(idata, 20, 4);
      b.writeU32(d, thunks);
      b.writeU32(d + 12, name);
      b.writeU32(d + 16, thunks);
    }
    b.setDirectory(1, start, 20);
    const t0 = Date.now();
    const image = parsePe(b.build());
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(image.imports.length <= 4096);
    assert.ok(image.imports.length > 0);
    assert.ok(image.anomalies.some((a) => a.includes('no terminating descriptor')));
  });

  it('stops a descriptor chain that runs off mapped memory', () => {
    const b = new PeBuilder();
    const text = b.addSection('.text', { characteristics: TEXT });
    b.entryRva = b.put(text, Uint8Array.of(0xc3));
    const last = b.addSection('.idata', { virtualSize: 0x1000 });
    const d = b.reserve(last, 0x1000, 4);
    new Uint8Array(last.content.buffer).fill(0x41, d - last.rva);
    b.setDirectory(1, d, 20);
    const image = parsePe(b.build());
    assertNoInternalErrors(image);
  });

  it('detects a resource directory that points to itself', () => {
    const b = new PeBuilder();
    const text = b.addSection('.text', { characteristics: TEXT });
    b.entryRva = b.put(text, Uint8Array.of(0xc3));
    const rsrc = b.addSection('.rsrc');
    const root = b.reserve(rsrc, 16 + 8 * 2, 4);
    b.writeU16(root + 14, 2); // two ID entries
    b.writeU32(root + 16, 3);
    b.writeU32(root + 20, 0x80000000); // subdirectory at offset 0: the root itself
    b.writeU32(root + 24, 0x80000010); // name string at offset 0x10
    b.writeU32(root + 28, 0x80000000);
    b.setDirectory(2, root, 32);
    const image = parsePe(b.build());
    assert.deepEqual(image.resources, []);
    assert.ok(image.anomalies.some((a) => a.includes('reached twice')));
  });

  it('bounds a deep chain of resource directories', () => {
    const b = new PeBuilder();
    const text = b.addSection('.text', { characteristics: TEXT });
    b.entryRva = b.put(text, Uint8Array.of(0xc3));
    const rsrc = b.addSection('.rsrc');
    const root = b.reserve(rsrc, 24 * 40, 4);
    for (let i = 0; i < 40; i++) {
      const dir = root + 24 * i;
      b.writeU16(dir + 14, 1);
      b.writeU32(dir + 16, i);
      b.writeU32(dir + 20, (0x80000000 | (24 * (i + 1))) >>> 0);
    }
    b.setDirectory(2, root, 24 * 40);
    const image = parsePe(b.build());
    assert.ok(image.anomalies.some((a) => a.includes('deeper than')));
  });

  it('caps huge NumberOfNames / NumberOfFunctions in the export directory', () => {
    const b = new PeBuilder({ dll: true });
    const text = b.addSection('.text', { characteristics: TEXT });
    const f = b.put(text, Uint8Array.of(0xc3));
    const edata = b.addSection('.edata', { virtualSize: 0x40000 });
    const dir = addExports(b, edata, 'x.dll', [{ name: 'a', rva: f }]);
    b.writeU32(dir + 20, 0x7fffffff); // NumberOfFunctions
    b.writeU32(dir + 24, 0xffffffff); // NumberOfNames
    b.reserve(edata, 0x30000, 4); // zero-filled room for the tables to run into
    const t0 = Date.now();
    const image = parsePe(b.build());
    assert.ok(Date.now() - t0 < 3000);
    assert.ok(image.anomalies.some((a) => a.includes('NumberOfNames')));
    assert.ok(image.anomalies.some((a) => a.includes('NumberOfFunctions')));
    assert.ok(image.exports.length <= 0x10000);
    assert.ok(image.exports.some((e) => e.name === 'a'));
  });

  it('caps an unterminated TLS callback array', () => {
    const b = new PeBuilder();
    const text = b.addSection('.text', { characteristics: TEXT });
    b.entryRva = b.put(text, new Uint8Array(0x800).fill(0xc3));
    const data = b.addSection('.data', { characteristics: DATA });
    const many = Array.from({ length: 400 }, (_, i) => b.imageBase + b.entryRva + i);
    addTls(b, data, many);
    const image = parsePe(b.build());
    assert.equal(image.tlsCallbacks.length, 256);
    assert.ok(image.anomalies.some((a) => a.includes('TLS')));
  });

  it('rejects a 64-bit ImageBase beyond 2^53', () => {
    const b = new PeBuilder({ is64: true, imageBase: 0x140000000 });
    b.addSection('.text', { characteristics: TEXT });
    const bytes = b.build();
    new DataView(bytes.buffer).setBigUint64(COFF_OFFSET + 20 + 24, 0xffff800000000000n, true);
    assert.throws(
      () => parsePe(bytes),
      (e: unknown) => e instanceof FormatError && e.code === 'malformed',
    );
  });

  it('keeps memory sparse for an absurd SizeOfImage and VirtualSize', () => {
    const b = new PeBuilder();
    const text = b.addSection('.text', { characteristics: TEXT, declaredVirtualSize: 0xfffff000 });
    b.entryRva = b.put(text, Uint8Array.of(0xc3));
    const bytes = b.build();
    new DataView(bytes.buffer).setUint32(COFF_OFFSET + 20 + 56, 0xfffff000, true);
    const image = parsePe(bytes);
    assert.equal(image.memory.readU32(image.sections[0]!.va + 0x80000000), 0);
    assert.equal(image.memory.read(image.sections[0]!.va, 0x7fffffff), null); // refused, not allocated
  });

  it('survives random corruption (seeded)', () => {
    const { bytes } = richImage();
    const rnd = prng(1234);
    const deadline = Date.now() + 4000;
    let runs = 0;
    for (; runs < 3000 && Date.now() < deadline; runs++) {
      const copy = bytes.slice();
      const flips = 1 + Math.floor(rnd() * 8);
      for (let k = 0; k < flips; k++) {
        // Mostly headers and directory areas, sometimes anywhere.
        const at = rnd() < 0.6 ? Math.floor(rnd() * 0x400) : Math.floor(rnd() * copy.length);
        copy[at] = rnd() < 0.3 ? 0xff : Math.floor(rnd() * 256);
      }
      const r = parseOrRefuse(copy);
      if (!(r instanceof FormatError)) {
        assertNoInternalErrors(r);
        exercise(r);
      }
    }
    assert.ok(runs > 100);
  });
});
