import assert from 'node:assert/strict';
import { it } from 'node:test';
import { evaluate } from '../../src/engine/evaluate.js';
import { FeatureSet } from '../../src/features/feature-set.js';
import { parseRule } from '../../src/rules/parse-rule.js';
import { rulesFromJson, rulesToJson } from '../../src/rules/serialize.js';

/** JSON with sorted keys and tagged special values: equal exactly when the rules are. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `bigint:${v}`;
    if (v instanceof Uint8Array) return `bytes:${[...v].join(',')}`;
    if (v instanceof RegExp) return `regex:${v.source}/${v.flags}`;
    if (v === Infinity) return 'Infinity';
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return v;
  });
}

it('round-trips parsed rules exactly: 64-bit numbers, bytes, regexes, open ranges', () => {
  const rule = parseRule(
    `rule:
  meta:
    name: everything
    scopes:
      static: function
      dynamic: unsupported
  features:
    - and:
      - number: 0xFFFFFFFFFFFFFFFF
      - offset: -0x30
      - bytes: 4D 5A 90 = MZ
      - string: /mail(?P<x>slot)\\\\/i
      - count(mnemonic(xor)): 2 or more
      - optional:
        - basic block:
          - api: CreateFileA
`,
    'x.yml',
  );
  const [back] = rulesFromJson(rulesToJson([rule]));
  assert.equal(canonical(back), canonical(rule));
  const fs = new FeatureSet();
  for (const key of ['number(0xffffffffffffffff)', 'offset(-0x30)', 'bytes(4d5a90ff)', 'string(\\\\.\\MAILSLOT\\x)', 'mnemonic(xor)'])
    fs.add(key, 0x401000);
  fs.add('mnemonic(xor)', 0x401002);
  // evaluate the parts the engine evaluates directly (subscopes become derived rules)
  const parts = (back!.statement as { children: Parameters<typeof evaluate>[0][] }).children.slice(0, 5);
  for (const part of parts) assert.equal(evaluate(part, fs, false).success, true, part.type);
});
