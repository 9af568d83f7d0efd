import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { analyze, type FunctionInfo, type Program } from '../../src/analysis/index.js';
import { parsePe } from '../../src/format/pe/index.js';
import { REPO_ROOT } from '../support/shared-data.js';

const BIN = join(REPO_ROOT, 'fixtures', 'bin');

function load(name: string): { program: Program; symbols: Record<string, number> } {
  const image = parsePe(new Uint8Array(readFileSync(join(BIN, `${name}.exe`))));
  const symbols = JSON.parse(readFileSync(join(BIN, `${name}.symbols.json`), 'utf8')) as Record<
    string,
    number
  >;
  return { program: analyze(image), symbols };
}

function fn(program: Program, va: number | undefined): FunctionInfo {
  assert.ok(va !== undefined);
  const f = program.functionAt(va);
  assert.ok(f, `no function at 0x${va.toString(16)}`);
  return f;
}

/** Structural invariants every recovered function must satisfy. */
function checkInvariants(p: Program, f: FunctionInfo): void {
  const firstInsn = f.firstInsn;
  const endInsn = f.firstInsn + f.insnCount;
  const endBlock = f.firstBlock + f.blockCount;
  assert.ok(f.insnCount > 0 && f.blockCount > 0);
  assert.equal(p.blockFirstInsn[f.firstBlock], firstInsn);
  assert.equal(p.blockFirstInsn[endBlock], endInsn);
  assert.ok(f.entryBlock >= f.firstBlock && f.entryBlock < endBlock);
  assert.equal(p.blockStart[f.entryBlock], f.address);
  for (let b = f.firstBlock; b < endBlock; b++) {
    if (b > f.firstBlock) assert.ok(p.blockStart[b]! > p.blockStart[b - 1]!, 'blocks sorted');
    assert.ok(p.blockFirstInsn[b]! < p.blockFirstInsn[b + 1]!, 'no empty block');
    assert.equal(p.insnAddress[p.blockFirstInsn[b]!], p.blockStart[b]);
    const last = p.blockFirstInsn[b + 1]! - 1;
    assert.equal(p.insnAddress[last]! + p.insnLength[last]!, p.blockEnd[b]);
  }
  for (let i = firstInsn + 1; i < endInsn; i++)
    assert.ok(p.insnAddress[i]! > p.insnAddress[i - 1]!);
  for (let e = f.firstEdge; e < f.firstEdge + f.edgeCount; e++) {
    assert.ok(p.edgeFrom[e]! >= f.firstBlock && p.edgeFrom[e]! < endBlock);
    assert.ok(p.edgeTo[e]! >= f.firstBlock && p.edgeTo[e]! < endBlock);
    if (e > f.firstEdge) assert.ok(p.edgeFrom[e]! >= p.edgeFrom[e - 1]!);
  }
  for (let c = f.firstCall + 1; c < f.firstCall + f.callCount; c++)
    assert.ok(p.callFrom[c]! >= p.callFrom[c - 1]!);
}

function callTargets(p: Program, f: FunctionInfo): number[] {
  return [...p.callTo.subarray(f.firstCall, f.firstCall + f.callCount)];
}

for (const arch of ['x86', 'x64'] as const) {
  describe(`analysis of features.${arch}.exe`, () => {
    const { program, symbols } = load(`features.${arch}`);

    it('discovers every function of the source at its exact address', () => {
      for (const [name, va] of Object.entries(symbols)) {
        if (name === 'imageBase') continue;
        assert.ok(program.functionAt(va), `${name} at 0x${va.toString(16)} not discovered`);
      }
      assert.equal(program.truncated, false);
      assert.equal(program.bitness, arch === 'x64' ? 64 : 32);
    });

    it('keeps every function well formed', () => {
      for (const f of program.functions) checkInvariants(program, f);
      for (let i = 1; i < program.functions.length; i++) {
        assert.ok(program.functions[i]!.address > program.functions[i - 1]!.address);
      }
    });

    it('finds the back edge of loop_sum', () => {
      const f = fn(program, symbols.loop_sum);
      let back = false;
      const p = program;
      for (let e = f.firstEdge; e < f.firstEdge + f.edgeCount; e++) {
        if (p.blockStart[p.edgeTo[e]!]! <= p.blockStart[p.edgeFrom[e]!]!) back = true;
      }
      assert.ok(back, 'no back edge in loop_sum');
    });

    it('recognises the thunk called by api_via_thunk as GetTickCount', () => {
      const f = fn(program, symbols.api_via_thunk);
      const targets = callTargets(program, f).filter((t) => t >= 0);
      assert.ok(targets.length > 0, 'api_via_thunk makes no direct call');
      const imports = targets.map((t) => program.thunks.get(t)).filter((x) => x !== undefined);
      assert.equal(imports.length, 1);
      assert.equal(imports[0]!.name, 'GetTickCount');
      assert.equal(imports[0]!.dll, 'kernel32');
      assert.equal(program.functionAt(targets[0]!)?.thunk?.name, 'GetTickCount');
    });

    it('resolves the IAT call of api_via_iat', () => {
      const f = fn(program, symbols.api_via_iat);
      const names = [...program.callIat.subarray(f.firstCall, f.firstCall + f.callCount)]
        .filter((m) => m >= 0)
        .map((m) => program.importsByIat.get(m)?.name);
      assert.deepEqual(names, ['GetTickCount']);
    });

    it('sees recursive_fib call itself', () => {
      const f = fn(program, symbols.recursive_fib);
      assert.ok(callTargets(program, f).includes(f.address));
    });

    it('keeps calls inside basic blocks', () => {
      const f = fn(program, symbols.main);
      const p = program;
      assert.ok(f.callCount >= 8);
      // At least one block holds a call that is not its last instruction.
      let inside = false;
      for (let c = f.firstCall; c < f.firstCall + f.callCount; c++) {
        const va = p.callFrom[c]!;
        for (let b = f.firstBlock; b < f.firstBlock + f.blockCount; b++) {
          const last = p.blockFirstInsn[b + 1]! - 1;
          if (va >= p.blockStart[b]! && va < p.insnAddress[last]!) inside = true;
        }
      }
      assert.ok(inside);
    });
  });
}

describe('analysis bounds', () => {
  it('stops at maxInstructions and maxFunctions', () => {
    const image = parsePe(new Uint8Array(readFileSync(join(BIN, 'features.x86.exe'))));
    const small = analyze(image, { maxInstructions: 50 });
    assert.equal(small.truncated, true);
    assert.ok(small.instructionCount <= 50);
    const few = analyze(image, { maxFunctions: 3 });
    assert.equal(few.truncated, true);
    assert.ok(few.functions.length <= 3);
  });
});
