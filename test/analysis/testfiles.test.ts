/**
 * Robustness: analyse every MZ file in capa-testfiles (LIVE MALWARE: bytes are only read, never
 * executed or copied). Each must complete without an exception within the analysis bounds.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { it } from 'node:test';

import { analyze } from '../../src/analysis/index.js';
import type { Image } from '../../src/format/image.js';
import { parsePe } from '../../src/format/pe/index.js';
import { sharedPath } from '../support/shared-data.js';

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) yield* walk(path);
    else if (st.isFile()) yield path;
  }
}

const dir = sharedPath('capa-testfiles');

it('analyses every MZ file in capa-testfiles without throwing', { skip: dir === undefined }, () => {
  assert.ok(dir !== undefined);
  let analysed = 0;
  let skipped = 0;
  let totalMs = 0;
  let totalFunctions = 0;
  for (const path of walk(dir)) {
    const bytes = new Uint8Array(readFileSync(path));
    if (bytes.length < 2 || bytes[0] !== 0x4d || bytes[1] !== 0x5a) continue;
    const name = relative(dir, path);
    let image: Image;
    try {
      image = parsePe(bytes);
    } catch {
      skipped++;
      console.log(`${name}: not parsed, skipped`);
      continue;
    }
    if (image.dotnet) {
      skipped++;
      continue;
    }
    const t0 = performance.now();
    const program = analyze(image);
    const ms = performance.now() - t0;
    totalMs += ms;
    totalFunctions += program.functions.length;
    analysed++;
    for (const f of program.functions) {
      assert.equal(program.blockFirstInsn[f.firstBlock + f.blockCount], f.firstInsn + f.insnCount);
      assert.equal(program.blockStart[f.entryBlock], f.address);
    }
    console.log(
      `${name}: ${image.arch} ${program.functions.length} functions, ` +
        `${program.instructionCount} instructions, ${program.thunks.size} thunks` +
        `${program.truncated ? ' (truncated)' : ''}, ${ms.toFixed(1)} ms`,
    );
  }
  console.log(
    `${analysed} analysed, ${skipped} skipped, ${totalFunctions} functions, ${totalMs.toFixed(0)} ms total`,
  );
  assert.ok(analysed > 0);
});
