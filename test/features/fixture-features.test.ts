/**
 * Exact features at exact addresses in our own test programs (fixtures/), for 32- and 64-bit
 * builds. Addresses were checked against mingw-w64's objdump of the same binaries.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyze } from '../../src/analysis/index.js';
import { parsePe } from '../../src/format/pe/index.js';
import { FeatureSet } from '../../src/features/feature-set.js';
import { X86FeatureExtractor } from '../../src/features/x86-features.js';
import { REPO_ROOT } from '../support/shared-data.js';

/** Every (feature key, location) of a function, scope-tagged: `insn`, `bb`, `func`. */
function functionFeatures(bin: string, address: number): Set<string> {
  const image = parsePe(new Uint8Array(readFileSync(bin)));
  const program = analyze(image);
  const index = program.functions.findIndex((f) => f.address === address);
  assert.ok(index >= 0, `function 0x${address.toString(16)} recovered`);
  const extractor = new X86FeatureExtractor(program);
  try {
    const fn = extractor.functionFeatures(index);
    const out = new Set<string>();
    const add = (scope: string, fs: FeatureSet) => {
      for (const key of fs.keys())
        for (const l of fs.get(key)!) out.add(`${scope} ${key} @ 0x${l.toString(16)}`);
    };
    add('func', fn.features);
    for (const bb of fn.blocks) {
      add('bb', bb.features);
      for (const insn of bb.instructions) add('insn', insn.features);
    }
    return out;
  } finally {
    extractor.free();
  }
}

/** Function → features that must be present, per build. */
const EXPECTED: Record<'x86' | 'x64', Record<string, string[]>> = {
  x86: {
    api_via_iat: ['insn api(GetTickCount) @ 0x4015b3'],
    api_via_thunk: ['insn api(GetTickCount) @ 0x4015c0'],
    api_via_register: ['insn api(Sleep) @ 0x4015db', 'insn api(Sleep) @ 0x4015e6'],
    stack_string: [
      'bb characteristic(stack string) @ 0x4015f3',
      'bb string(capa-ts stack) @ 0x4015f6',
    ],
    loop_sum: ['bb characteristic(tight loop) @ 0x40166e'],
    xor_decode: [
      'insn characteristic(nzxor) @ 0x401697',
      'bb characteristic(tight loop) @ 0x401697',
    ],
    wide_string_ref: [
      'insn string(capa-ts wide string) @ 0x4016a5',
      'insn api(OutputDebugStringW) @ 0x4016ac',
    ],
    recursive_fib: ['insn characteristic(recursive call) @ 0x4016b9'],
  },
  x64: {
    api_via_iat: ['insn api(GetTickCount) @ 0x140001534'],
    api_via_thunk: ['insn api(GetTickCount) @ 0x140001543'],
    api_via_register: ['insn api(Sleep) @ 0x14000155c', 'insn api(Sleep) @ 0x140001561'],
    stack_string: [
      'bb characteristic(stack string) @ 0x14000156c',
      'bb string(capa-ts stack) @ 0x140001570',
    ],
    loop_sum: ['bb characteristic(tight loop) @ 0x1400015e1'],
    xor_decode: [
      'insn characteristic(nzxor) @ 0x140001603',
      'bb characteristic(tight loop) @ 0x140001603',
    ],
    wide_string_ref: [
      'insn string(capa-ts wide string) @ 0x140001614',
      'insn api(OutputDebugStringW) @ 0x14000161b',
    ],
    recursive_fib: ['insn characteristic(recursive call) @ 0x140001627'],
  },
};

describe('features of the fixture programs', () => {
  for (const arch of ['x86', 'x64'] as const) {
    const bin = join(REPO_ROOT, 'fixtures/bin', `features.${arch}.exe`);
    const symbols = JSON.parse(
      readFileSync(bin.replace(/\.exe$/, '.symbols.json'), 'utf8'),
    ) as Record<string, number>;
    for (const [fn, features] of Object.entries(EXPECTED[arch])) {
      it(`${arch} ${fn}`, () => {
        const got = functionFeatures(bin, symbols[fn]!);
        for (const f of features)
          assert.ok(
            got.has(f),
            `${f}\n  not among:\n  ${[...got].filter((g) => !g.includes('mnemonic')).join('\n  ')}`,
          );
      });
    }
    it(`${arch}: no nzxor where only a register is zeroed, no stack string without one`, () => {
      const got = functionFeatures(bin, symbols.api_via_iat!);
      assert.ok(![...got].some((g) => g.includes('nzxor') || g.includes('stack string')));
    });
  }
});
