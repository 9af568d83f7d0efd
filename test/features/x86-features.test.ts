/**
 * Instruction and function features on small images built in memory, where capa's vivisect
 * extractor has a rule that is easy to get subtly wrong.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { analyze } from '../../src/analysis/index.js';
import { parsePe } from '../../src/format/pe/index.js';
import type { FeatureSet } from '../../src/features/feature-set.js';
import { X86FeatureExtractor } from '../../src/features/x86-features.js';
import { addImports, PeBuilder, TEXT } from '../format/pe/pe-builder.js';

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Instruction VA → its features, and function VA → its own features. */
function extract(bytes: Uint8Array) {
  const program = analyze(parsePe(bytes));
  const x = new X86FeatureExtractor(program);
  const insns = new Map<number, FeatureSet>();
  const functions = new Map<number, FeatureSet>();
  for (const f of x.functions()) {
    functions.set(f.address as number, f.features);
    for (const bb of f.blocks)
      for (const i of bb.instructions) insns.set(i.address as number, i.features);
  }
  return { x, insns, functions };
}

describe('x86 features of a synthetic 32-bit image', () => {
  const b = new PeBuilder();
  const base = b.imageBase;
  const text = b.addSection('.text', { characteristics: TEXT });
  const rdata = b.addSection('.rdata');
  const [[getTickCount]] = addImports(b, rdata, [
    { dll: 'KERNEL32.dll', symbols: ['GetTickCount'] },
  ]) as [[number]];
  const T = text.rva;
  const slot = base + getTickCount;
  const code = [
    [0x55], // T+0x00 push ebp
    [0x89, 0xe5], // T+0x01 mov ebp, esp
    [0xa1, ...le32(slot)], // T+0x03 mov eax, [slot] (stands in for the cookie)
    [0x31, 0xe8], // T+0x08 xor eax, ebp: security cookie, first block, first 0x40 bytes
    [0x31, 0xc8], // T+0x0a xor eax, ecx: nzxor
    [0x8b, 0x35, ...le32(slot)], // T+0x0c mov esi, [slot]
    [0x83, 0xc6, 0x04], // T+0x12 add esi, 4: not destructive for capa's find_definition
    [0xff, 0xd6], // T+0x15 call esi → api GetTickCount
    [0xe8, ...le32(0x40 - 0x1c)], // T+0x17 call g
    [0xe9, ...le32(0x40 - 0x21)], // T+0x1c jmp g: also a code reference to g
  ].flat();
  b.writeBytes(T, Uint8Array.from(code));
  b.writeBytes(T + 0x40, Uint8Array.from([0xc3])); // g: ret
  b.entryRva = T;
  const { x, insns, functions } = extract(b.build());
  after(() => x.free());
  const va = (rva: number) => base + T + rva;

  it('drops the xor of a security cookie with ebp, keeps other non-zeroing xors', () => {
    assert.equal(insns.get(va(0x08))?.has('characteristic(nzxor)'), false);
    assert.equal(insns.get(va(0x0a))?.has('characteristic(nzxor)'), true);
  });

  it('resolves call reg through non-destructive writes to the register', () => {
    assert.equal(insns.get(va(0x15))?.has('api(GetTickCount)'), true);
  });

  it('counts calls and jumps to a function as calls to it', () => {
    const callers = functions.get(va(0x40))?.get('characteristic(calls to)');
    assert.deepEqual([...(callers ?? [])].sort(), [va(0x17), va(0x1c)]);
  });
});

describe('x86 features of a synthetic 64-bit image', () => {
  const b = new PeBuilder({ is64: true });
  const text = b.addSection('.text', { characteristics: TEXT });
  const T = text.rva;
  const code = [
    [0x65, 0x48, 0x8b, 0x04, 0x25, 0x60, 0, 0, 0], // T+0x00 mov rax, gs:[0x60] (SIB, no base)
    [0x8b, 0x04, 0x25, ...le32(0x7ffe026c)], // T+0x09 mov eax, [0x7ffe026c] (SIB, no base)
    [0x48, 0xa1, ...le32(0x7ffe026c), 0, 0, 0, 0], // T+0x10 mov rax, [moffs64]
    [0xc3], // T+0x1a ret
  ].flat();
  b.writeBytes(T, Uint8Array.from(code));
  b.entryRva = T;
  const { x, insns } = extract(b.build());
  after(() => x.free());
  const va = (rva: number) => b.imageBase + T + rva;

  it('gives a SIB-encoded fixed address the features of vivisect i386SibOper', () => {
    const peb = insns.get(va(0x00))!;
    assert.equal(peb.has('characteristic(peb access)'), true);
    assert.equal(peb.has('offset(0x0)'), true);
    assert.equal(peb.has('number(0x60)'), false);
    assert.equal(insns.get(va(0x09))!.has('number(0x7ffe026c)'), false);
  });

  it('keeps the number of a mov accumulator, [moffs64] (vivisect i386ImmMemOper)', () => {
    assert.equal(insns.get(va(0x10))!.has('number(0x7ffe026c)'), true);
  });
});
