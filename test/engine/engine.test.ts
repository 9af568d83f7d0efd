import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate } from '../../src/engine/evaluate.js';
import type { Result } from '../../src/engine/result.js';
import { ScopeMatcher } from '../../src/engine/scope-matcher.js';
import { matchStatic } from '../../src/engine/static.js';
import type { StaticFeatures } from '../../src/features/feature-tree.js';
import { FeatureSet } from '../../src/features/feature-set.js';
import { NO_ADDRESS } from '../../src/features/location.js';
import { loadRules } from '../../src/rules/load.js';
import { requiredKeys } from '../../src/rules/rule-index.js';

function rules(...defs: [name: string, scope: string, features: string, namespace?: string][]) {
  const { ruleSet, errors } = loadRules(
    defs.map(([name, scope, features, namespace]) => ({
      path: `${name}.yml`,
      text: `rule:\n  meta:\n    name: ${name}\n${namespace ? `    namespace: ${namespace}\n` : ''}    scopes:\n      static: ${scope}\n      dynamic: unsupported\n  features:\n${features}`,
    })),
  );
  assert.deepEqual(
    errors.map((e) => e.message),
    [],
  );
  return ruleSet;
}

function set(entries: [string, number][]): FeatureSet {
  const fs = new FeatureSet();
  for (const [k, l] of entries) fs.add(k, l);
  return fs;
}

describe('evaluation trees', () => {
  it('records which children held and where, in full after a short-circuit match', () => {
    const rs = rules([
      'r',
      'function',
      '    - and:\n      - api: CreateFileA\n      - or:\n        - number: 1\n        - number: 2\n      - not:\n        - api: DeleteFileA',
    ]);
    const fs = set([
      ['api(CreateFileA)', 0x401010],
      ['number(0x1)', 0x401020],
      ['number(0x2)', 0x401030],
      ['number(0x2)', 0x401040],
    ]);
    const result = evaluate(rs.byName.get('r')!.statement, fs, false);
    assert.equal(result.success, true);
    const [api, or, not] = result.children as [Result, Result, Result];
    assert.deepEqual([...api.locations], [0x401010]);
    assert.deepEqual(
      or.children.map((c) => c.success),
      [true, true],
      'full evaluation sees both',
    );
    assert.deepEqual([...or.children[1]!.locations], [0x401030, 0x401040]);
    assert.equal(not.success, true);
    assert.equal(not.children[0]!.success, false);
    const short = evaluate(rs.byName.get('r')!.statement, fs, true);
    assert.equal(short.children[1]!.children.length, 1, 'short-circuit stops at the first');
  });

  it('reports the strings a substring or regex matched', () => {
    const rs = rules(['r', 'function', '    - string: /mailslot\\\\\\w+/i']);
    const fs = new FeatureSet();
    fs.add('string(\\\\.\\mailslot\\LogCC)', 0x402000);
    fs.add('string(hello)', 0x402010);
    const result = evaluate(rs.byName.get('r')!.statement, fs, false);
    assert.equal(result.success, true);
    assert.deepEqual([...result.strings!.keys()], ['\\\\.\\mailslot\\LogCC']);
    assert.deepEqual([...result.locations], [0x402000]);
  });
});

describe('the rule index', () => {
  it('requires one of the keys a rule cannot match without', () => {
    const rs = rules(
      [
        'a',
        'function',
        '    - and:\n      - api: X\n      - or:\n        - number: 1\n        - number: 2',
      ],
      ['b', 'function', '    - or:\n      - api: X\n      - substring: abc'],
      ['c', 'function', '    - not:\n      - api: X'],
      ['d', 'function', '    - count(api(X)): (0, 2)'],
    );
    const keys = (n: string) => {
      const k = requiredKeys(rs.byName.get(n)!.statement);
      return k && [...k].sort();
    };
    assert.deepEqual(keys('a'), ['api(X)']);
    assert.deepEqual(keys('b'), ['#string', 'api(X)']);
    assert.equal(keys('c'), null);
    assert.equal(keys('d'), null);
  });

  it('never evaluates a rule whose required features are absent', () => {
    const rs = rules(['needs api', 'function', '    - and:\n      - api: X\n      - number: 1']);
    const matcher = new ScopeMatcher(rs.index('function'));
    const rule = rs.byName.get('needs api')! as { statement: unknown };
    let reads = 0;
    rule.statement = new Proxy(rule.statement as object, {
      get(target, p, r) {
        reads++;
        return Reflect.get(target, p, r);
      },
    });
    matcher.match(
      set([
        ['number(0x1)', 1],
        ['mnemonic(mov)', 2],
      ]),
      0x1000,
    );
    assert.equal(reads, 0);
    const found = matcher.match(
      set([
        ['number(0x1)', 1],
        ['api(X)', 2],
      ]),
      0x1000,
    );
    assert.ok(reads > 0);
    assert.deepEqual([...found.keys()], ['needs api']);
  });
});

describe('static scopes', () => {
  const rs = rules(
    [
      'xor insn',
      'instruction',
      '    - and:\n      - mnemonic: xor\n      - characteristic: nzxor',
      'data-manipulation/encoding/xor',
    ],
    ['uses xor', 'function', '    - match: data-manipulation/encoding'],
    [
      'has loop and xor',
      'function',
      '    - and:\n      - match: xor insn\n      - characteristic: loop',
    ],
    ['xor somewhere', 'file', '    - and:\n      - match: has loop and xor\n      - format: pe'],
    ['two blocks', 'function', '    - count(basic blocks): 2'],
  );
  const program: StaticFeatures = {
    global: set([['format(pe)', NO_ADDRESS as unknown as number]]),
    file: new FeatureSet(),
    functions: [
      {
        address: 0x401000,
        features: set([['characteristic(loop)', 0x401000]]),
        blocks: [
          {
            address: 0x401000,
            features: set([['basic block', 0x401000]]),
            instructions: [
              { address: 0x401000, features: set([['mnemonic(mov)', 0x401000]]) },
              {
                address: 0x401003,
                features: set([
                  ['mnemonic(xor)', 0x401003],
                  ['characteristic(nzxor)', 0x401003],
                ]),
              },
            ],
          },
          {
            address: 0x401010,
            features: set([['basic block', 0x401010]]),
            instructions: [{ address: 0x401010, features: set([['mnemonic(ret)', 0x401010]]) }],
          },
        ],
      },
    ],
  };

  it('feeds matches upward, by name and by namespace, up to the file', () => {
    const { matches } = matchStatic(rs, program);
    const at = (n: string) => (matches.get(n) ?? []).map(([l]) => l);
    assert.deepEqual(at('xor insn'), [0x401003]);
    assert.deepEqual(at('uses xor'), [0x401000]);
    assert.deepEqual(at('has loop and xor'), [0x401000]);
    assert.deepEqual(at('xor somewhere'), [NO_ADDRESS]);
    assert.deepEqual(at('two blocks'), [0x401000]);
    const tree = matches.get('has loop and xor')![0]![1];
    assert.deepEqual(
      [...tree.children[0]!.locations],
      [0x401003],
      'the match feature points at the instruction',
    );
  });
});
