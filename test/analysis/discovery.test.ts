/**
 * Function starts found beyond code flow, as vivisect's PE analysis finds them: code addresses in
 * immediate operands and behind memory operands, relocated pointers in code, i386 entry
 * signatures, x64 `.pdata`, SafeSEH handlers, and jump tables of images without relocations.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { analyze } from '../../src/analysis/index.js';
import { matchesEntrySignature } from '../../src/analysis/discovery.js';
import type { Program } from '../../src/analysis/program.js';
import { parsePe } from '../../src/format/pe/index.js';
import { addRelocations, DATA, PeBuilder, TEXT } from '../format/pe/pe-builder.js';

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function starts(program: Program, origin: number): [number, string][] {
  return program.functions.map((f) => [f.address - origin, f.source]);
}

describe('function discovery in a 32-bit image without relocations', () => {
  const b = new PeBuilder();
  const base = b.imageBase;
  const text = b.addSection('.text', { characteristics: TEXT });
  const rdata = b.addSection('.rdata');
  const data = b.addSection('.data', { characteristics: DATA });
  const T = text.rva;
  const at = (off: number): number => base + T + off;
  const table = b.reserve(rdata, 12, 4);
  const slot = b.reserve(data, 4, 4);

  // entry: mov eax, 0x00ec8b55 (entry-signature bytes inside an instruction); push offset F1;
  // push offset JUNK; mov eax, [slot] (slot holds F2); call S; ret
  b.writeBytes(
    T,
    Uint8Array.from([
      ...[0xb8, 0x55, 0x8b, 0xec, 0x00],
      ...[0x68, ...le32(at(0x20))],
      ...[0x68, ...le32(at(0x40))],
      ...[0xa1, ...le32(base + slot)],
      ...[0xe8, ...le32(0x80 - 25)],
      0xc3,
    ]),
  );
  // F1: xor eax, eax; ret
  b.writeBytes(T + 0x20, Uint8Array.from([0x31, 0xc0, 0xc3]));
  // JUNK: 00 00 ... (`add [eax], al`: not code)
  // SIG, referenced by nothing: push ebp; mov ebp, esp; pop ebp; ret
  b.writeBytes(T + 0x60, Uint8Array.from([0x55, 0x8b, 0xec, 0x5d, 0xc3]));
  // S: cmp eax, 1; ja T+0x8f; jmp [eax*4 + table]; cases at T+0x8c and T+0x8d; T+0x8f: ret
  b.writeBytes(
    T + 0x80,
    Uint8Array.from([
      ...[0x83, 0xf8, 0x01, 0x77, 0x0a, 0xff, 0x24, 0x85],
      ...le32(base + table),
      ...[0xc3, 0x90, 0xc3, 0xc3],
    ]),
  );
  // Two cases, then a zero slot: the table ends there (no relocations say where it ends).
  b.writeBytes(table, Uint8Array.from([...le32(at(0x8c)), ...le32(at(0x8d)), ...le32(0)]));
  // F2: xor eax, eax; inc eax; ret — only its address in .data, read by `mov eax, [slot]`.
  b.writeBytes(T + 0xc0, Uint8Array.from([0x33, 0xc0, 0x40, 0xc3]));
  b.writeBytes(slot, Uint8Array.from(le32(at(0xc0))));
  b.entryRva = T;

  const image = parsePe(b.build());
  const program = analyze(image);

  it('starts functions at code addresses in operands and at entry signatures', () => {
    assert.deepEqual(starts(program, base + T), [
      [0, 'entry'],
      [0x20, 'reference'],
      [0x60, 'signature'],
      [0x80, 'call'],
      [0xc0, 'reference'],
    ]);
  });

  it('reads the cases of a jump table without relocations', () => {
    const s = program.functionAt(at(0x80))!;
    const blocks = [...program.blockStart.subarray(s.firstBlock, s.firstBlock + s.blockCount)];
    assert.deepEqual(
      blocks.map((x) => x - at(0)),
      [0x80, 0x85, 0x8c, 0x8d, 0x8f],
    );
  });

  it('finds none of them with codeReferences off', () => {
    const p = analyze(image, { codeReferences: false });
    assert.deepEqual(starts(p, base + T), [
      [0, 'entry'],
      [0x80, 'call'],
    ]);
  });

  it('matches only vivisect i386 entry signatures', () => {
    assert.ok(matchesEntrySignature(Uint8Array.from([0x55, 0x8b, 0xec]), 0));
    assert.ok(matchesEntrySignature(Uint8Array.from([0x8b, 0xff, 0x55, 0x8b, 0xec]), 0));
    assert.ok(matchesEntrySignature(Uint8Array.from([0x6a, 0x0e, 0x68, 1, 2, 3, 4, 0xe8]), 0));
    assert.ok(!matchesEntrySignature(Uint8Array.from([0x6a, 0x0e, 0x68, 1, 2, 3, 4, 0xe9]), 0));
    assert.ok(!matchesEntrySignature(Uint8Array.from([0x55, 0x8b]), 0));
    assert.ok(!matchesEntrySignature(Uint8Array.from([0x55, 0x89, 0xe4]), 0));
  });
});

describe('relocated pointers inside code', () => {
  const b = new PeBuilder();
  const base = b.imageBase;
  const text = b.addSection('.text', { characteristics: TEXT });
  const reloc = b.addSection('.reloc');
  const T = text.rva;
  const at = (off: number): number => base + T + off;
  b.writeBytes(T, Uint8Array.from([0xc3]));
  // F: push esi; pop esi; ret
  b.writeBytes(T + 0x20, Uint8Array.from([0x56, 0x5e, 0xc3]));
  // A table of two relocated pointers stored in .text, to F and to zero bytes (not code).
  b.writeBytes(T + 0x50, Uint8Array.from([...le32(at(0x20)), ...le32(at(0x40))]));
  b.entryRva = T;
  addRelocations(b, reloc, [T + 0x50, T + 0x54]);
  const program = analyze(parsePe(b.build()));

  it('start a function where the target looks like one', () => {
    assert.deepEqual(starts(program, base + T), [
      [0, 'entry'],
      [0x20, 'pointer'],
    ]);
  });
});

describe('x64 exception directory', () => {
  const b = new PeBuilder({ is64: true });
  const base = b.imageBase;
  const text = b.addSection('.text', { characteristics: TEXT });
  const rdata = b.addSection('.rdata');
  const T = text.rva;
  b.writeBytes(T, Uint8Array.from([0xc3]));
  for (const off of [0x10, 0x20, 0x30, 0x40]) {
    b.writeBytes(T + off, Uint8Array.from([0x48, 0x31, 0xc0, 0xc3]));
  }
  b.entryRva = T;
  const v1 = b.put(rdata, Uint8Array.from([0x01, 0, 0, 0]), 4);
  const chained = b.put(rdata, Uint8Array.from([0x01 | (4 << 3), 0, 0, 0]), 4);
  const v2 = b.put(rdata, Uint8Array.from([0x02, 0, 0, 0]), 4);
  const entries = [
    [T + 0x10, T + 0x14, v1],
    [T + 0x20, T + 0x24, chained],
    [T + 0x40, T + 0x44, v2],
    [T + 0x30, T + 0x34, v1],
  ];
  const pdata = b.put(rdata, Uint8Array.from(entries.flat().flatMap(le32)), 4);
  b.setDirectory(3, pdata, entries.length * 12);
  const program = analyze(parsePe(b.build()));

  it('starts functions at RUNTIME_FUNCTION entries as vivisect reads them', () => {
    // The chained entry is a chunk; the table is abandoned at the version-2 unwind info.
    assert.deepEqual(starts(program, base + T), [
      [0, 'entry'],
      [0x10, 'pdata'],
    ]);
  });
});

describe('SafeSEH handler table', () => {
  const b = new PeBuilder();
  const base = b.imageBase;
  const text = b.addSection('.text', { characteristics: TEXT });
  const rdata = b.addSection('.rdata');
  const T = text.rva;
  b.writeBytes(T, Uint8Array.from([0xc3]));
  b.writeBytes(T + 0x10, Uint8Array.from([0x33, 0xc0, 0xc3]));
  b.entryRva = T;
  const handlers = b.put(rdata, Uint8Array.from(le32(T + 0x10)), 4);
  const config = b.reserve(rdata, 0x48, 4);
  b.writeU32(config, 0x48);
  b.writeU32(config + 0x40, base + handlers);
  b.writeU32(config + 0x44, 1);
  b.setDirectory(10, config, 0x48);
  const program = analyze(parsePe(b.build()));

  it('starts a function at each handler', () => {
    assert.deepEqual(starts(program, base + T), [
      [0, 'entry'],
      [0x10, 'seh'],
    ]);
  });
});
