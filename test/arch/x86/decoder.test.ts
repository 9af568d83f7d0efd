import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createDecoder, Flow } from '../../../src/arch/x86/index.js';

function decodeAll(bitness: 32 | 64, bytes: number[], base: number) {
  const dec = createDecoder(bitness, Uint8Array.from(bytes), base);
  const out: { va: number; len: number; flow: number; target: number; mem: number; mn: string }[] =
    [];
  try {
    for (;;) {
      const len = dec.next();
      if (len === 0) break;
      out.push({
        va: dec.va,
        len,
        flow: dec.flow,
        target: dec.branchTarget(),
        mem: dec.memoryAddress(),
        mn: dec.mnemonic(),
      });
    }
  } finally {
    dec.free();
  }
  return out;
}

describe('x86 decoder (32-bit)', () => {
  const base = 0x401000;
  const insns = decodeAll(
    32,
    [
      0x55, // push ebp
      0x8b,
      0xec, // mov ebp, esp
      0x74,
      0x02, // je +2
      0xe8,
      0x10,
      0x00,
      0x00,
      0x00, // call rel32
      0xff,
      0x15,
      0x00,
      0x20,
      0x40,
      0x00, // call [0x402000]
      0xff,
      0xd6, // call esi
      0xff,
      0x25,
      0x04,
      0x20,
      0x40,
      0x00, // jmp [0x402004]
      0xeb,
      0xfe, // jmp $
      0xcc, // int3
      0xc3, // ret
    ],
    base,
  );

  it('decodes lengths and addresses', () => {
    assert.deepEqual(
      insns.map((i) => i.len),
      [1, 2, 2, 5, 6, 2, 6, 2, 1, 1],
    );
    assert.equal(insns[0]!.va, base);
    assert.equal(insns[3]!.va, base + 5);
  });

  it('classifies flow and targets', () => {
    assert.equal(insns[0]!.flow, Flow.Next);
    assert.equal(insns[2]!.flow, Flow.ConditionalBranch);
    assert.equal(insns[2]!.target, base + 3 + 2 + 2);
    assert.equal(insns[3]!.flow, Flow.Call);
    assert.equal(insns[3]!.target, base + 10 + 0x10);
    assert.equal(insns[4]!.flow, Flow.IndirectCall);
    assert.equal(insns[4]!.mem, 0x402000);
    assert.equal(insns[5]!.flow, Flow.IndirectCall);
    assert.equal(insns[5]!.mem, -1);
    assert.equal(insns[6]!.flow, Flow.IndirectBranch);
    assert.equal(insns[6]!.mem, 0x402004);
    assert.equal(insns[7]!.flow, Flow.Branch);
    assert.equal(insns[7]!.target, insns[7]!.va);
    assert.equal(insns[8]!.flow, Flow.Interrupt);
    assert.equal(insns[9]!.flow, Flow.Return);
  });

  it('names mnemonics', () => {
    assert.deepEqual(
      insns.map((i) => i.mn),
      ['push', 'mov', 'je', 'call', 'call', 'call', 'jmp', 'jmp', 'int3', 'ret'],
    );
  });

  it('reports invalid and truncated bytes as length 0', () => {
    assert.deepEqual(decodeAll(32, [0x0f, 0x0b, 0xe8, 0x00], 0x1000).length, 1); // ud2, then a cut call
    const dec = createDecoder(32, Uint8Array.from([0xcc, 0x90]), 0x1000);
    try {
      assert.equal(dec.seek(0x1001), true);
      assert.equal(dec.next(), 1);
      assert.equal(dec.va, 0x1001);
      assert.equal(dec.mnemonic(), 'nop');
      assert.equal(dec.next(), 0);
      assert.equal(dec.seek(0x2000), false);
      dec.seek(0x1000);
      dec.next();
      assert.equal(dec.isBreakpoint, true);
    } finally {
      dec.free();
    }
  });
});

describe('x86 decoder (64-bit)', () => {
  const base = 0x1_4000_1000;
  const insns = decodeAll(
    64,
    [
      0xff,
      0x15,
      0xfa,
      0x0f,
      0x00,
      0x00, // call [rip+0xffa]  -> base+6+0xffa = base+0x1000
      0xe8,
      0xf5,
      0xff,
      0xff,
      0xff, // call rel32 -5      -> base+11-11 = base
      0x48,
      0x8b,
      0x35,
      0x00,
      0x01,
      0x00,
      0x00, // mov rsi, [rip+0x100]
      0xff,
      0xd6, // call rsi
      0x0f,
      0x85,
      0x00,
      0x00,
      0x00,
      0x80, // jne rel32 -2^31
      0xff,
      0x25,
      0x00,
      0x00,
      0x00,
      0x00, // jmp [rip+0]
      0xc3,
    ],
    base,
  );

  it('resolves RIP-relative memory and 64-bit branch targets', () => {
    assert.equal(insns[0]!.flow, Flow.IndirectCall);
    assert.equal(insns[0]!.mem, base + 0x1000);
    assert.equal(insns[1]!.flow, Flow.Call);
    assert.equal(insns[1]!.target, base);
    assert.equal(insns[2]!.mn, 'mov');
    assert.equal(insns[2]!.mem, base + 18 + 0x100);
    assert.equal(insns[3]!.flow, Flow.IndirectCall);
    assert.equal(insns[4]!.flow, Flow.ConditionalBranch);
    assert.equal(insns[4]!.target, base + 26 - 0x8000_0000);
    assert.equal(insns[5]!.flow, Flow.IndirectBranch);
    assert.equal(insns[5]!.mem, base + 32);
    assert.equal(insns[6]!.flow, Flow.Return);
  });
});
