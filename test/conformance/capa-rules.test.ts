/** The whole capa-rules corpus loads, and every `match:` in it resolves. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Statement } from '../../src/rules/ast.js';
import { loadRules } from '../../src/rules/load.js';
import { readRuleFiles } from '../../src/node/rule-files.js';
import { sharedPath } from '../support/shared-data.js';

const dir = sharedPath('capa-rules');

function matchTargets(node: Statement, out: string[] = []): string[] {
  if ('children' in node) for (const c of node.children) matchTargets(c, out);
  if ('child' in node) matchTargets(node.child, out);
  if ((node.type === 'feature' || node.type === 'range') && node.feature.kind === 'match') {
    out.push(node.feature.value);
  }
  return out;
}

it('loads all 1,054 capa rules without error', { skip: !dir }, () => {
  const { ruleSet, errors } = loadRules(readRuleFiles([dir!]));
  assert.deepEqual(
    errors.map((e) => e.message),
    [],
  );
  assert.equal(ruleSet.namedRules.length, 1054);
});

it(
  'resolves every match: in capa-rules to a rule or namespace, dependencies first',
  { skip: !dir },
  () => {
    const { ruleSet } = loadRules(readRuleFiles([dir!]));
    const namespaces = new Set<string>();
    for (const r of ruleSet.rules) {
      const parts = (r.meta.namespace ?? '').split('/');
      for (let i = 1; i <= parts.length; i++) namespaces.add(parts.slice(0, i).join('/'));
    }
    const position = new Map(ruleSet.rules.map((r, i) => [r.name, i]));
    let resolved = 0;
    for (const [i, rule] of ruleSet.rules.entries()) {
      for (const target of matchTargets(rule.statement)) {
        const isRule = position.has(target);
        assert.ok(namespaces.has(target) || isRule, `${rule.name}: match ${target}`);
        if (isRule && !namespaces.has(target)) {
          assert.ok(position.get(target)! < i, `${rule.name} must come after ${target}`);
        }
        resolved++;
      }
    }
    assert.ok(resolved > 300, `expected many match statements, found ${resolved}`);
  },
);
