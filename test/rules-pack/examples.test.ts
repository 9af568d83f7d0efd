/**
 * Every `examples:` entry of the bundled rules holds: the rule matches the named sample (one
 * of our fixture programs, or a capa test file), at the given address when there is one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  findCapabilities,
  type FileCapabilities,
} from '../../src/capabilities/find-capabilities.js';
import { readRuleFiles } from '../../src/node/rule-files.js';
import { SampleIndex, parseExample } from '../../src/node/sample-index.js';
import { loadRules } from '../../src/rules/load.js';
import { REPO_ROOT, sharedPath } from '../support/shared-data.js';

const { ruleSet } = loadRules(readRuleFiles([join(REPO_ROOT, 'rules')]));
const testfiles = sharedPath('capa-testfiles');
const samples = new SampleIndex([
  join(REPO_ROOT, 'fixtures/bin'),
  ...(testfiles ? [testfiles] : []),
]);
const results = new Map<string, FileCapabilities>();
const analyse = (path: string) => {
  let r = results.get(path);
  if (!r) results.set(path, (r = findCapabilities(new Uint8Array(readFileSync(path)), ruleSet)));
  return r;
};

describe('examples of the bundled rules', () => {
  for (const rule of ruleSet.namedRules) {
    for (const text of rule.meta.examples) {
      const example = parseExample(text);
      const path = samples.find(example.sample);
      it(`${rule.name}: ${text}`, { skip: path ? false : 'sample not available' }, () => {
        const found = (analyse(path!).matches.get(rule.name) ?? []).map(([l]) => l);
        assert.ok(found.length > 0, 'the rule matches the sample');
        if (example.address !== undefined) {
          assert.ok(
            found.includes(example.address),
            `matches at 0x${example.address.toString(16)}: ${found.join(', ')}`,
          );
        }
      });
    }
  }
});
