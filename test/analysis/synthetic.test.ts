/** Code recovery on small images built in memory: no-return calls, thunks, int3, data pointers. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { analyze } from '../../src/analysis/index.js';
import { parsePe } from '../../src/format/pe/index.js';
import { addImports, addRelocations, DATA, PeBuilder, TEXT } from '../format/pe/pe-builder.js';

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

describe('analysis of a synthetic 32-bit image', () => {
  const b = new PeBuilder();
  const base = b.imageBase;
  const text = b.addSection('.text', { characteristics: TEXT });
  const rdata = b.addSection('.rdata');
  const [[exitProcess, getTickCount]] = addImports(b, rdata, [
    { dll: 'KERNEL32.dll', symbols: ['ExitProcess', 'GetTickCount'] },
  ]) as [[number, number]];
  const data = b.addSection('.data', { characteristics: DATA });
  const reloc = b.addSection('.reloc');

  const T = text.rva;
  // entry (T+0): call f (T+0x20); call [ExitProcess]; then bytes of a call that must not be followed.
  b.writeBytes(
    T,
    Uint8Array.from([0xe8, ...le32(0x20 - 5), 0xff, 0x15, ...le32(base + exitProcess)]),
  );
  b.writeBytes(T + 11, Uint8Array.from([0xe8, ...le32(0x100 - 16)]));
  // f (T+0x20): call thunk (T+0x40); nop; ret  — the thunk jumps to GetTickCount, which returns.
  b.writeBytes(T + 0x20, Uint8Array.from([0xe8, ...le32(0x40 - 0x25), 0x90, 0xc3]));
  // thunk (T+0x40): jmp [GetTickCount]
  b.writeBytes(T + 0x40, Uint8Array.from([0xff, 0x25, ...le32(base + getTickCount)]));
  // g (T+0x60), only referenced from a relocated pointer in .data: a loop, then int3 and junk.
  // g: xor eax,eax; L: inc eax; cmp eax,10; jne L; int3; call +0x200 (never decoded)
  b.writeBytes(
    T + 0x60,
    Uint8Array.from([0x31, 0xc0, 0x40, 0x83, 0xf8, 0x0a, 0x75, 0xfa, 0xcc, 0xe8, ...le32(0x200)]),
  );
  // h (T+0x80), also pointed to from .data: a switch over a jump table of three relocated cases;
  // the fourth slot holds a code address without a relocation and is not a case.
  const table = b.reserve(rdata, 16, 4);
  b.writeBytes(
    T + 0x80,
    Uint8Array.from([
      0x83,
      0xf8,
      0x02,
      0x77,
      0x0c,
      0xff,
      0x24,
      0x85,
      ...le32(base + table),
      0xc3,
      0x90,
      0xc3,
      0x90,
      0xc3,
      0xc3,
    ]),
  );
  b.writeBytes(
    table,
    Uint8Array.from([0x8c, 0x8d, 0x8f, 0x91].flatMap((off) => le32(base + T + off))),
  );
  b.entryRva = T;
  const ptr = b.reserve(data, 8, 4);
  b.writeBytes(ptr, Uint8Array.from([...le32(base + T + 0x60), ...le32(base + T + 0x80)]));
  addRelocations(b, reloc, [ptr, ptr + 4, table, table + 4, table + 8]);

  const image = parsePe(b.build());
  const program = analyze(image);
  const va = (rva: number): number => base + rva;

  it('finds entry, call targets, thunk and pointed-to function, and nothing else', () => {
    assert.deepEqual(
      program.functions.map((f) => [f.address - base - T, f.source]),
      [
        [0, 'entry'],
        [0x20, 'call'],
        [0x40, 'call'],
        [0x60, 'pointer'],
        [0x80, 'pointer'],
      ],
    );
  });

  it('ends the code flow at a call to ExitProcess', () => {
    const entry = program.functionAt(va(T))!;
    assert.equal(entry.insnCount, 2);
    assert.equal(entry.blockCount, 1);
    assert.equal(entry.callCount, 2);
    const iat = program.callIat[entry.firstCall + 1]!;
    assert.equal(program.importsByIat.get(iat)?.name, 'ExitProcess');
  });

  it('continues after a call through a thunk to a returning API', () => {
    const f = program.functionAt(va(T + 0x20))!;
    assert.equal(f.insnCount, 3);
    assert.equal(program.callTo[f.firstCall], va(T + 0x40));
    assert.equal(program.thunks.get(va(T + 0x40))?.name, 'GetTickCount');
    assert.equal(program.functionAt(va(T + 0x40))?.thunk?.name, 'GetTickCount');
  });

  it('splits blocks at a loop head, with a back edge and a stop at int3', () => {
    const g = program.functionAt(va(T + 0x60))!;
    assert.equal(g.insnCount, 5);
    const starts = [...program.blockStart.subarray(g.firstBlock, g.firstBlock + g.blockCount)].map(
      (x) => x - va(T),
    );
    assert.deepEqual(starts, [0x60, 0x62, 0x68]);
    const edges: [number, number][] = [];
    for (let e = g.firstEdge; e < g.firstEdge + g.edgeCount; e++) {
      edges.push([program.edgeFrom[e]! - g.firstBlock, program.edgeTo[e]! - g.firstBlock]);
    }
    assert.deepEqual(edges, [
      [0, 1],
      [1, 1],
      [1, 2],
    ]);
  });

  it('follows the cases of a relocated jump table', () => {
    const h = program.functionAt(va(T + 0x80))!;
    const starts = [...program.blockStart.subarray(h.firstBlock, h.firstBlock + h.blockCount)].map(
      (x) => x - va(T),
    );
    assert.deepEqual(starts, [0x80, 0x85, 0x8c, 0x8d, 0x8f, 0x91]);
    const edges: [number, number][] = [];
    for (let e = h.firstEdge; e < h.firstEdge + h.edgeCount; e++) {
      edges.push([program.edgeFrom[e]! - h.firstBlock, program.edgeTo[e]! - h.firstBlock]);
    }
    assert.deepEqual(edges, [
      [0, 5],
      [0, 1],
      [1, 2],
      [1, 3],
      [1, 4],
    ]);
  });

  it('can skip data pointers', () => {
    const p = analyze(image, { dataPointers: false });
    assert.equal(p.functionAt(va(T + 0x60)), undefined);
  });
});
