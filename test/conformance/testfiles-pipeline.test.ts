/**
 * Every PE in capa-testfiles goes through the whole pipeline — parse, analysis, features,
 * matching — without a crash or a hang; files capa-ts does not analyse get a reason.
 * (The samples are live malware: they are only read as bytes.)
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { UnsupportedFileError } from '../../src/capabilities/errors.js';
import { findCapabilities } from '../../src/capabilities/find-capabilities.js';
import { FormatError } from '../../src/format/errors.js';
import { readRuleFiles } from '../../src/node/rule-files.js';
import { loadRules } from '../../src/rules/load.js';
import { REPO_ROOT, sharedPath } from '../support/shared-data.js';

const dir = sharedPath('capa-testfiles');

it('analyses every PE in capa-testfiles or says why not', { skip: !dir }, () => {
  const { ruleSet } = loadRules(readRuleFiles([join(REPO_ROOT, 'rules')]));
  let analysed = 0;
  const refused = new Map<string, string>();
  let slowest = { file: '', ms: 0 };
  for (const file of readdirSync(dir!).sort()) {
    const path = join(dir!, file);
    if (!statSync(path).isFile()) continue;
    const bytes = new Uint8Array(readFileSync(path));
    if (bytes[0] !== 0x4d || bytes[1] !== 0x5a) continue;
    const t = performance.now();
    try {
      findCapabilities(bytes, ruleSet);
      analysed++;
    } catch (e) {
      assert.ok(
        e instanceof UnsupportedFileError || e instanceof FormatError,
        `${file}: ${String(e)}`,
      );
      assert.ok(e.message.length > 0 && !e.message.includes('\n'), 'a one-line reason');
      refused.set(file, e.message);
    }
    const ms = performance.now() - t;
    if (ms > slowest.ms) slowest = { file, ms };
  }
  console.log(
    `# ${analysed} PE files analysed, ${refused.size} refused; slowest ${slowest.file} ${slowest.ms.toFixed(0)} ms`,
  );
  for (const [file, reason] of refused) console.log(`  refused ${file}: ${reason}`);
  assert.ok(analysed >= 170, `expected most samples to be analysed, got ${analysed}`);
  for (const reason of refused.values()) assert.match(reason, /\.NET/);
});
