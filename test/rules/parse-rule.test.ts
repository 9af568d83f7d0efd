import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Statement } from '../../src/rules/ast.js';
import { parseRule } from '../../src/rules/parse-rule.js';
import { translatePythonRegex } from '../../src/rules/regex.js';

function features(body: string, scopes = 'static: function\n      dynamic: call'): Statement {
  const text = `rule:\n  meta:\n    name: r\n    scopes:\n      ${scopes}\n  features:\n${body}`;
  return parseRule(text, 'r.yml').statement;
}

function only(body: string, scopes?: string): Statement {
  const s = features(`    - or:\n${body}`, scopes);
  assert.equal(s.type, 'or');
  return (s as { children: Statement[] }).children[0]!;
}

describe('rule parsing', () => {
  it('reads meta fields', () => {
    const rule = parseRule(
      `rule:
  meta:
    name: create mailslot
    namespace: communication/mailslot
    authors:
      - someone@example.com
    description: creates a mailslot
    lib: false
    scopes:
      static: basic block
      dynamic: call
    att&ck:
      - Execution::Inter-Process Communication [T1559]
    mbc:
      - Communication::Interprocess Communication::Create Mailslot [C0003.001]
    references:
      - https://learn.microsoft.com/
    examples:
      - af13e7583ed1b27c4ae219e344a37e2b:0x40151D
    maec/analysis-conclusion: suspicious
  features:
    - api: kernel32.CreateMailslotA
`,
      'x.yml',
    );
    assert.equal(rule.name, 'create mailslot');
    assert.equal(rule.meta.namespace, 'communication/mailslot');
    assert.deepEqual(rule.meta.scopes, { static: 'basic block', dynamic: 'call' });
    assert.deepEqual(rule.meta.attack, ['Execution::Inter-Process Communication [T1559]']);
    assert.deepEqual(rule.meta.examples, ['af13e7583ed1b27c4ae219e344a37e2b:0x40151D']);
    assert.deepEqual(rule.meta.extra, { 'maec/analysis-conclusion': 'suspicious' });
    assert.deepEqual(rule.position, { line: 3, col: 11 });
    assert.equal(rule.statement.type, 'feature');
    assert.equal((rule.statement as { key: string }).key, 'api(CreateMailslotA)');
  });

  it('keeps 64-bit and negative numbers exact', () => {
    const s = features(
      '    - or:\n      - number: 0x6A09E667F3BCC908\n      - number: 0xFFFFFFFFFFFFFFFF\n      - offset: -0x30\n      - number: -1\n      - number: 18446744073709551615',
    ) as { children: { key: string }[] };
    assert.deepEqual(
      s.children.map((c) => c.key),
      [
        'number(0x6a09e667f3bcc908)',
        'number(0xffffffffffffffff)',
        'offset(-0x30)',
        'number(-0x1)',
        'number(0xffffffffffffffff)',
      ],
    );
  });

  it('splits inline descriptions, except for strings', () => {
    const n = only('      - number: 0x10 = FOO') as { key: string; description?: string };
    assert.equal(n.key, 'number(0x10)');
    assert.equal(n.description, 'FOO');
    const sp = only('      - number: 2  = WH_KEYBOARD') as { key: string; description?: string };
    assert.equal(sp.key, 'number(0x2)');
    const s = only('      - string: a = b') as { key: string; description?: string };
    assert.equal(s.key, 'string(a = b)');
    assert.equal(s.description, undefined);
    const d = only('      - api: CreateFileA\n        description: opens a file') as { description?: string };
    assert.equal(d.description, 'opens a file');
  });

  it('takes a statement description from a description entry', () => {
    const s = features('    - and:\n      - description: both\n      - api: a\n      - api: b');
    assert.equal(s.description, 'both');
    assert.equal((s as { children: unknown[] }).children.length, 2);
  });

  it('drops the DLL from api names but keeps ordinals and .NET names', () => {
    const keys = (features(
      '    - or:\n      - api: kernel32.CreateFileA\n      - api: ws2_32.#1\n      - api: System.IO.File::Delete\n      - api: CreateFileW',
    ) as { children: { key: string }[] }).children.map((c) => c.key);
    assert.deepEqual(keys, ['api(CreateFileA)', 'api(ws2_32.#1)', 'api(System.IO.File::Delete)', 'api(CreateFileW)']);
  });

  it('reads every count form', () => {
    const s = features(
      "    - and:\n      - count(basic blocks): 4\n      - count(mnemonic(xor)): 2 or more\n      - count(characteristic(nzxor)): 3 or fewer\n      - count(number(0x10 = X)): (1, 5)\n      - count(string(a = b)): 1",
    ) as { children: { type: string; key: string; min: number; max: number }[] };
    assert.deepEqual(
      s.children.map((c) => [c.key, c.min, c.max]),
      [
        ['basic block', 4, 4],
        ['mnemonic(xor)', 2, Infinity],
        ['characteristic(nzxor)', 0, 3],
        ['number(0x10)', 1, 5],
        ['string(a = b)', 1, 1],
      ],
    );
  });

  it('reads N or more, optional, not and subscopes', () => {
    const s = features(
      '    - and:\n      - 2 or more:\n        - api: a\n        - api: b\n        - api: c\n      - optional:\n        - api: d\n      - not:\n        - api: e\n      - instruction:\n        - mnemonic: mov\n        - number: 1',
    ) as { children: Statement[] };
    assert.deepEqual(
      s.children.map((c) => c.type),
      ['some', 'some', 'not', 'subscope'],
    );
    assert.equal((s.children[0] as { count: number }).count, 2);
    assert.equal((s.children[1] as { count: number }).count, 0);
    const sub = s.children[3] as { scope: string; child: Statement };
    assert.equal(sub.scope, 'instruction');
    assert.equal(sub.child.type, 'and', 'several children of instruction: are an implied and');
  });

  it('reads operands, properties, bytes, regexes and substrings', () => {
    const s = features(
      "    - or:\n      - operand[1].number: 0x10\n      - operand[0].offset: -8\n      - property/read: System.IO.FileInfo::Length\n      - property: X::Y\n      - bytes: 4D 5A 90 = MZ header\n      - string: /mailslot\\\\/i\n      - substring: mailslot",
    ) as { children: Statement[] };
    const [op, off, pr, p, b, re, sub] = s.children as { key?: string; type: string }[];
    assert.equal(op!.key, 'operand[1].number(0x10)');
    assert.equal(off!.key, 'operand[0].offset(-0x8)');
    assert.equal(pr!.key, 'property/read(System.IO.FileInfo::Length)');
    assert.equal(p!.key, 'property(X::Y)');
    assert.equal(b!.key, 'bytes(4d5a90)');
    assert.equal(re!.type, 'regex');
    assert.ok((re as unknown as { regex: RegExp }).regex.test('\\\\.\\MAILSLOT\\x'));
    assert.equal(sub!.type, 'substring');
  });

  it('turns com/class into the GUID as a string or as bytes', () => {
    const s = only('      - com/class: WbemLocator') as { type: string; children: { key: string }[] };
    assert.equal(s.type, 'or');
    assert.deepEqual(s.children.map((c) => c.key), [
      'string(4590F811-1D3A-11D0-891F-00AA004B2E24)',
      'bytes(11f890453a1dd011891f00aa004b2e24)',
    ]);
  });

  it('reads YAML as PyYAML does: y is a string, yes is a boolean', () => {
    assert.equal((only('      - api: y') as { key: string }).key, 'api(y)');
    assert.throws(() => only('      - string: yes'), /ambiguous string value true/);
  });
});

describe('regex translation from Python', () => {
  it('translates named groups, anchors and inline flags', () => {
    assert.deepEqual(translatePythonRegex('(?P<x>a)(?P=x)\\Aend\\Z', false), {
      source: '(?<x>a)\\k<x>^end$',
      flags: 's',
    });
    assert.deepEqual(translatePythonRegex('(?i)abc', false), { source: 'abc', flags: 'is' });
    assert.deepEqual(translatePythonRegex('[$]x$', true), { source: '[$]x(?=\\n?$)', flags: 'is' });
  });

  it('lets $ match before a final newline, as Python does', () => {
    const { source, flags } = translatePythonRegex('exe$', false);
    assert.ok(new RegExp(source, flags).test('cmd.exe\n'));
    assert.ok(!new RegExp(source, flags).test('cmd.exe\nx'));
  });
});
