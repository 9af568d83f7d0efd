/** Rules that must be rejected, each with a specific message at the right line and column. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuleError } from '../../src/rules/errors.js';
import { loadRules } from '../../src/rules/load.js';
import { parseRule } from '../../src/rules/parse-rule.js';

/** A function-scope rule; `features` starts on line 8 with 4 spaces of indentation. */
function rule(features: string, scopes = 'static: function\n      dynamic: unsupported'): string {
  return `rule:
  meta:
    name: test rule
    scopes:
      ${scopes}
  features:
${features}`;
}

interface Case {
  name: string;
  text: string;
  message: string | RegExp;
  line: number;
  col: number;
}

const cases: Case[] = [
  {
    name: 'invalid YAML',
    text: 'rule:\n  meta: [unclosed\n',
    message: /invalid YAML/,
    line: 3,
    col: 1,
  },
  { name: 'not a mapping', text: '- just a list\n', message: 'a rule file must be a mapping with a `rule:` key', line: 1, col: 1 },
  { name: 'unknown top-level key', text: 'rules:\n  meta: {}\n', message: 'unknown key in top level: rules (expected: rule)', line: 1, col: 1 },
  {
    name: 'unknown key beside meta',
    text: 'rule:\n  meta:\n    name: x\n  feature:\n    - api: a\n',
    message: 'unknown key in rule: feature (expected: meta, features)',
    line: 4,
    col: 3,
  },
  { name: 'missing meta', text: 'rule:\n  features:\n    - api: a\n', message: 'rule has no `meta:` section', line: 2, col: 3 },
  {
    name: 'missing name',
    text: 'rule:\n  meta:\n    scopes:\n      static: function\n      dynamic: unsupported\n  features:\n    - api: a\n',
    message: 'rule has no `name:`',
    line: 3,
    col: 5,
  },
  {
    name: 'missing scopes',
    text: 'rule:\n  meta:\n    name: x\n  features:\n    - api: a\n',
    message: 'rule has no `scopes:`',
    line: 3,
    col: 5,
  },
  {
    name: 'legacy scope key',
    text: 'rule:\n  meta:\n    name: x\n    scope: function\n  features:\n    - api: a\n',
    message: '`scope:` is no longer supported: use `scopes:` with `static:` and `dynamic:`',
    line: 4,
    col: 5,
  },
  {
    name: 'unknown meta key',
    text: 'rule:\n  meta:\n    name: x\n    atack: [T1055]\n',
    message: 'unknown meta key: atack',
    line: 4,
    col: 5,
  },
  {
    name: 'missing dynamic scope',
    text: rule('    - api: a', 'static: function'),
    message: '`scopes:` must give a `dynamic:` scope (or `unsupported`)',
    line: 5,
    col: 7,
  },
  {
    name: 'invalid static scope',
    text: rule('    - api: a', 'static: functions\n      dynamic: unsupported'),
    message: /^invalid static scope: functions \(expected one of: file, function/,
    line: 5,
    col: 15,
  },
  {
    name: 'both scopes unsupported',
    text: rule('    - api: a', 'static: unsupported\n      dynamic: unsupported'),
    message: 'at least one of the static and dynamic scopes must be supported',
    line: 5,
    col: 7,
  },
  {
    name: 'att&ck not a list',
    text: 'rule:\n  meta:\n    name: x\n    att&ck: T1055\n',
    message: '`att&ck` must be a list',
    line: 4,
    col: 13,
  },
  {
    name: 'two top-level statements',
    text: rule('    - api: a\n    - api: b'),
    message: 'rule must begin with a single top level statement',
    line: 8,
    col: 5,
  },
  {
    name: 'top-level subscope',
    text: rule('    - basic block:\n      - api: a'),
    message: 'top level statement may not be a subscope',
    line: 8,
    col: 7,
  },
  {
    name: 'unknown feature',
    text: rule('    - and:\n      - apii: CreateFileA'),
    message: 'unknown feature or statement: apii',
    line: 9,
    col: 9,
  },
  {
    name: 'two features in one list item',
    text: rule('    - and:\n      - api: a\n        number: 1'),
    message: 'one statement per list item: found `api` and `number`',
    line: 10,
    col: 9,
  },
  {
    name: 'not with two children',
    text: rule('    - and:\n      - api: a\n      - not:\n        - api: b\n        - api: c'),
    message: '`not` must have exactly one child statement',
    line: 10,
    col: 9,
  },
  {
    name: 'two descriptions in a statement',
    text: rule('    - and:\n      - description: one\n      - description: two\n      - api: a'),
    message: 'statements can only have one description',
    line: 10,
    col: 9,
  },
  {
    name: 'inline and explicit description',
    text: rule('    - and:\n      - number: 0x10 = FOO\n        description: foo'),
    message: 'only one description allowed: inline ` = ` and `description:` both given',
    line: 9,
    col: 17,
  },
  {
    name: 'empty inline description',
    text: rule("    - and:\n      - number: '0x10 = '"),
    message: 'empty inline description in: 0x10 = ',
    line: 9,
    col: 17,
  },
  {
    name: 'number that is not an integer',
    text: rule('    - and:\n      - number: 0x10g'),
    message: 'invalid number value: 0x10g (expected an integer)',
    line: 9,
    col: 17,
  },
  {
    name: 'malformed bytes',
    text: rule('    - and:\n      - bytes: 4D 5A 9'),
    message: 'invalid bytes: 4D 5A 9 (expected hex pairs like "4D 5A 90")',
    line: 9,
    col: 16,
  },
  {
    name: 'bytes too long',
    text: rule(`    - and:\n      - bytes: ${'90 '.repeat(257).trim()}`),
    message: 'bytes pattern is 257 bytes, more than the limit of 256',
    line: 9,
    col: 16,
  },
  {
    name: 'regex that does not compile',
    text: rule('    - and:\n      - string: /abc(/'),
    message: /^invalid regular expression \/abc\(\/: /,
    line: 9,
    col: 17,
  },
  {
    name: 'ambiguous string value',
    text: rule('    - and:\n      - string: 1234'),
    message: 'ambiguous string value 1234: quote it to make it a string',
    line: 9,
    col: 17,
  },
  {
    name: 'feature not supported in scope',
    text: rule('    - and:\n      - export: DllMain'),
    message: 'feature `export` is not supported in function scope',
    line: 9,
    col: 9,
  },
  {
    name: 'characteristic not supported in scope',
    text: rule('    - and:\n      - characteristic: embedded pe'),
    message: 'characteristic `embedded pe` is not supported in function scope',
    line: 9,
    col: 9,
  },
  {
    name: 'unknown characteristic',
    text: rule('    - and:\n      - characteristic: nzxorr'),
    message: 'characteristic `nzxorr` is not supported in function scope',
    line: 9,
    col: 9,
  },
  {
    name: 'invalid os',
    text: rule('    - and:\n      - os: win'),
    message: /^invalid os: win \(expected one of: windows, linux/,
    line: 9,
    col: 13,
  },
  {
    name: 'invalid arch',
    text: rule('    - and:\n      - arch: x86'),
    message: 'invalid arch: x86 (expected one of: i386, amd64, aarch64, any)',
    line: 9,
    col: 15,
  },
  {
    name: 'operand index out of range',
    text: rule('    - and:\n      - operand[5].number: 1'),
    message: 'operand index 5 out of range 0-4',
    line: 9,
    col: 9,
  },
  {
    name: 'subscope in the wrong scope',
    text: rule('    - and:\n      - process:\n        - api: a'),
    message: '`process` subscope is supported only in file, process scope',
    line: 9,
    col: 9,
  },
  {
    name: 'subscope with two children',
    text: rule('    - and:\n      - basic block:\n        - api: a\n        - api: b'),
    message: '`basic block` subscope must have exactly one child statement',
    line: 9,
    col: 9,
  },
  {
    name: 'feature inside a subscope checked against the subscope',
    text: rule('    - and:\n      - basic block:\n        - characteristic: loop'),
    message: 'characteristic `loop` is not supported in basic block scope',
    line: 10,
    col: 11,
  },
  {
    name: 'count with a bad range',
    text: rule('    - and:\n      - count(mnemonic(mov)): (5, 2)'),
    message: 'range maximum is less than its minimum',
    line: 9,
    col: 31,
  },
  {
    name: 'count with an unreadable value',
    text: rule('    - and:\n      - count(mnemonic(mov)): lots'),
    message: 'invalid count: expected N, `N or more`, `N or fewer` or `(min, max)`',
    line: 9,
    col: 31,
  },
  {
    name: 'count of a pattern',
    text: rule('    - and:\n      - count(substring(abc)): 2'),
    message: 'count() needs an exact feature, not `substring`',
    line: 9,
    col: 9,
  },
  {
    name: 'unknown COM class',
    text: rule('    - and:\n      - com/class: NoSuchClass'),
    message: 'unknown COM class name: NoSuchClass',
    line: 9,
    col: 20,
  },
  {
    name: 'empty and',
    text: rule('    - and: []'),
    message: '`and` must be a list of child statements',
    line: 8,
    col: 12,
  },
  {
    name: 'lib not a boolean',
    text: 'rule:\n  meta:\n    name: x\n    lib: maybe\n',
    message: '`lib:` must be true or false',
    line: 4,
    col: 10,
  },
];

describe('malformed rules are rejected at the right place', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(
        () => parseRule(c.text, 'bad.yml'),
        (e: unknown) => {
          assert.ok(e instanceof RuleError, String(e));
          if (typeof c.message === 'string') assert.equal(e.detail, c.message);
          else assert.match(e.detail, c.message);
          assert.deepEqual(e.position, { line: c.line, col: c.col }, e.message);
          assert.ok(e.message.startsWith(`bad.yml:${c.line}:${c.col}: `));
          return true;
        },
      );
    });
  }
  it(`has at least 30 cases (${cases.length})`, () => assert.ok(cases.length >= 30));
});

const ok = (name: string, features: string, extra = '') => ({
  path: `${name}.yml`,
  text: `rule:\n  meta:\n    name: ${name}\n${extra}    scopes:\n      static: function\n      dynamic: unsupported\n  features:\n${features}`,
});

describe('rule set errors', () => {
  it('reports a duplicate name at the second definition, keeping the first', () => {
    const { ruleSet, errors } = loadRules([ok('a', '    - api: x'), ok('a', '    - api: y')]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.message, 'a.yml:3:11: duplicate rule name: a (first defined in a.yml)');
    assert.equal(ruleSet.namedRules.length, 1);
  });

  it('reports a match naming no rule or namespace at the match', () => {
    const { errors } = loadRules([ok('a', '    - and:\n      - match: nothing here')]);
    assert.deepEqual(errors.map((e) => e.message), ['a.yml:9:9: match: nothing here names no rule or namespace']);
  });

  it('reports dependency cycles and keeps the rules outside them', () => {
    const { ruleSet, errors } = loadRules([
      ok('a', '    - match: b'),
      ok('b', '    - match: a'),
      ok('c', '    - api: x'),
    ]);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!.detail, /^dependency cycle: (a -> b -> a|b -> a -> b)$/);
    assert.deepEqual(ruleSet.namedRules.map((r) => r.name), ['c']);
  });

  it('reports every bad rule in a batch and still loads the good ones', () => {
    const { ruleSet, errors } = loadRules([
      ok('good one', '    - api: x'),
      { path: 'broken.yml', text: 'rule: [' },
      ok('bad scope', '    - export: x'),
      ok('needs bad', '    - match: bad scope'),
      ok('good two', '    - match: good one'),
    ]);
    assert.deepEqual(
      errors.map((e) => e.path),
      ['broken.yml', 'bad scope.yml', 'needs bad.yml'],
    );
    assert.match(errors[2]!.detail, /^match: bad scope names no rule or namespace$/);
    assert.deepEqual(ruleSet.namedRules.map((r) => r.name).sort(), ['good one', 'good two']);
  });
});
