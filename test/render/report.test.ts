/** The text reports — default tables, `-v`, `-vv` — built from rules and features in memory. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchStatic } from '../../src/engine/static.js';
import type { StaticFeatures } from '../../src/features/feature-tree.js';
import { FeatureSet } from '../../src/features/feature-set.js';
import { NO_ADDRESS, type Location } from '../../src/features/location.js';
import { locationsText, quoted } from '../../src/render/match-tree.js';
import { ANSI, PLAIN } from '../../src/render/style.js';
import { boxTable, plainTable } from '../../src/render/table.js';
import { groupTagged, textReport, type ReportSample } from '../../src/render/text-report.js';
import { loadRules } from '../../src/rules/load.js';

const ESC = '\x1b[';

function rule(name: string, scope: string, features: string, meta = ''): string {
  return `rule:\n  meta:\n    name: ${name}\n${meta}    scopes:\n      static: ${scope}\n      dynamic: unsupported\n  features:\n${features}`;
}

const RULES = [
  rule(
    'create file',
    'function',
    '    - and:\n      - api: CreateFileA\n      - optional:\n        - api: DeleteFileA\n      - not:\n        - api: CloseHandle\n',
    '    namespace: host-interaction/file-system/create\n    att&ck:\n      - Defense Evasion::Obfuscated Files or Information [T1027]\n      - Execution::Shared Modules [T1129]\n    mbc:\n      - File System::Create File [C0016]\n',
  ),
  rule(
    'xor twice',
    'function',
    '    - count(mnemonic(xor)): 2 or more\n',
    '    namespace: data-manipulation/encoding/xor\n    att&ck:\n      - Defense Evasion::Process Injection::Thread Execution Hijacking [T1055.003]\n',
  ),
  rule(
    'xor in a block',
    'function',
    '    - and:\n      - basic block:\n        - and:\n          - mnemonic: xor\n          - number: 0x10 = sixteen\n      - match: create file\n',
    '    namespace: data-manipulation/encoding\n',
  ),
  rule(
    'http verb',
    'function',
    '    - or:\n      - string: /^(GET|POST)/\n      - substring: "never there"\n',
    '    namespace: communication/http\n',
  ),
  rule('a library rule', 'file', '    - format: pe\n', '    lib: true\n'),
];

function set(entries: [string, Location][]): FeatureSet {
  const fs = new FeatureSet();
  for (const [k, l] of entries) fs.add(k, l);
  return fs;
}

function fn(address: number, insns: [number, string[]][]) {
  return {
    address,
    features: new FeatureSet(),
    blocks: [
      {
        address,
        features: set([['basic block', address]]),
        instructions: insns.map(([a, keys]) => ({
          address: a,
          features: set(keys.map((k) => [k, a])),
        })),
      },
    ],
  };
}

function setup() {
  const { ruleSet, errors } = loadRules(RULES.map((text, i) => ({ path: `${i}.yml`, text })));
  assert.deepEqual(
    errors.map((e) => e.message),
    [],
  );
  const program: StaticFeatures = {
    global: set([
      ['format(pe)', NO_ADDRESS],
      ['os(windows)', NO_ADDRESS],
    ]),
    file: new FeatureSet(),
    functions: [
      fn(0x401000, [
        [0x401010, ['api(CreateFileA)']],
        [0x401020, ['mnemonic(xor)', 'number(0x10)']],
        [0x401030, ['mnemonic(xor)']],
        [0x401040, ['string(GET /index.html)']],
      ]),
      fn(0x402000, [
        [0x402004, ['api(CreateFileA)']],
        [0x402008, ['mnemonic(xor)']],
        [0x40200c, ['mnemonic(xor)']],
      ]),
    ],
  };
  const { matches } = matchStatic(ruleSet, program);
  return { ruleSet, matches };
}

const SAMPLE: ReportSample = {
  md5: 'd41d8cd98f00b204e9800998ecf8427e',
  sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  path: '/tmp/sample.exe',
  format: 'pe',
  arch: 'i386',
  os: 'windows',
};

describe('default report', () => {
  const { ruleSet, matches } = setup();
  const text = textReport(SAMPLE, ruleSet, matches);
  const lines = text.split('\n');

  it('starts with the sample table', () => {
    assert.match(text, /^\| md5 +\| d41d8cd98f00b204e9800998ecf8427e +\|$/m);
    assert.match(text, /^\| path +\| \/tmp\/sample\.exe +\|$/m);
  });

  it('groups ATT&CK techniques by tactic, with their IDs', () => {
    assert.ok(lines.some((l) => /^\| ATT&CK Tactic +\| ATT&CK Technique +\|$/.test(l)));
    const i = lines.findIndex((l) => l.startsWith('| DEFENSE EVASION '));
    assert.ok(i > 0, text);
    assert.match(lines[i]!, /\| Obfuscated Files or Information \[T1027\] +\|$/);
    assert.match(
      lines[i + 1]!,
      /^\| +\| Process Injection::Thread Execution Hijacking \[T1055\.003\] +\|$/,
    );
    assert.ok(lines.some((l) => /^\| EXECUTION +\| Shared Modules \[T1129\]/.test(l)));
  });

  it('groups MBC behaviours by objective', () => {
    assert.ok(lines.some((l) => /^\| MBC Objective +\| MBC Behavior +\|$/.test(l)));
    assert.ok(
      lines.some((l) => /^\| FILE SYSTEM +\| Create File \[C0016\] +\|$/.test(l)),
      text,
    );
  });

  it('lists capabilities with namespace, match count and the strings regexes matched', () => {
    assert.ok(
      lines.some((l) =>
        /^\| create file \(2 matches\) +\| host-interaction\/file-system\/create +\| +\|$/.test(l),
      ),
      text,
    );
    assert.ok(lines.some((l) => /^\| xor in a block +\| data-manipulation\/encoding +\|/.test(l)));
    assert.ok(
      lines.some((l) => /^\| http verb +\| communication\/http +\| GET \/index\.html +\|$/.test(l)),
    );
  });

  it('hides library rules and the rules derived from subscopes', () => {
    assert.doesNotMatch(text, /a library rule/);
    assert.doesNotMatch(text, /xor in a block\//);
  });

  it('colours only when asked', () => {
    assert.ok(!text.includes(ESC));
    const coloured = textReport(SAMPLE, ruleSet, matches, { style: ANSI });
    assert.ok(coloured.includes(`${ESC}34mcreate file${ESC}0m (2 matches)`), coloured);
    // colour does not move the columns
    const strip = (s: string) => s.replace(/\x1b\[\d+m/g, ''); // eslint-disable-line no-control-regex
    assert.equal(strip(coloured), text);
  });

  it('says when nothing matched', () => {
    assert.match(textReport(SAMPLE, ruleSet, new Map()), /no capabilities found$/);
  });
});

describe('verbose report (-v)', () => {
  const { ruleSet, matches } = setup();
  const functionOfBlock = new Map([
    [0x401000, 0x401000],
    [0x402000, 0x402000],
  ]);
  const text = textReport({ ...SAMPLE, baseAddress: 0x400000 }, ruleSet, matches, {
    verbosity: 1,
    functionOfBlock,
  });

  it('gives each capability a block of meta and its match addresses', () => {
    const block = text.split('\n\n').find((b) => b.startsWith('create file (2 matches)\n'));
    assert.ok(block, text);
    assert.deepEqual(block.split('\n'), [
      'create file (2 matches)',
      'namespace  host-interaction/file-system/create',
      'scope      function',
      'att&ck     Defense Evasion::Obfuscated Files or Information [T1027], Execution::Shared Modules [T1129]',
      'mbc        File System::Create File [C0016]',
      'function @ 0x401000',
      'function @ 0x402000',
    ]);
  });

  it('starts with the sample as a plain table', () => {
    assert.match(text, /^md5 +d41d8cd98f00b204e9800998ecf8427e$/m);
    assert.match(text, /^base address +0x400000$/m);
  });

  it('shows no trees', () => {
    assert.doesNotMatch(text, /^ +and:/m);
  });
});

describe('very verbose report (-vv)', () => {
  const { ruleSet, matches } = setup();
  const text = textReport(SAMPLE, ruleSet, matches, { verbosity: 2 });
  const block = (title: string) =>
    text
      .split('\n\n')
      .find((b) => b.startsWith(`${title}\n`))
      ?.split('\n');

  it('prints the statements that held, with the addresses of their features', () => {
    const b = block('create file (2 matches)')!;
    const at = b.indexOf('function @ 0x401000');
    assert.deepEqual(b.slice(at, at + 5), [
      'function @ 0x401000',
      '  and:',
      '    api: CreateFileA @ 0x401010',
      '    not:',
      '      api: CloseHandle',
    ]);
    assert.ok(!b.includes('    optional:'), 'an optional block with nothing in it is hidden');
  });

  it('prints count statements as capa does', () => {
    const b = block('xor twice (2 matches)')!;
    assert.ok(b.includes('  count(mnemonic(xor)): 2 or more @ 0x401020, 0x401030'), b.join('\n'));
  });

  it('shows a subscope as its scope, with the derived rule tree beneath', () => {
    const b = block('xor in a block')!;
    const at = b.indexOf('function @ 0x401000');
    assert.deepEqual(b.slice(at, at + 7), [
      'function @ 0x401000',
      '  and:',
      '    basic block:',
      '      and:',
      '        mnemonic: xor @ 0x401020, 0x401030',
      '        number: 0x10 = sixteen @ 0x401020',
      '    match: create file @ 0x401000',
    ]);
  });

  it('lists the strings a regex matched, and hides the branches that failed', () => {
    const b = block('http verb')!;
    assert.deepEqual(b.slice(-4), [
      'function @ 0x401000',
      '  or:',
      '    regex: /^(GET|POST)/',
      '      - "GET /index.html" @ 0x401040',
    ]);
  });
});

describe('report helpers', () => {
  it('groups tagged entries under their head, sorted', () => {
    assert.deepEqual(
      [...groupTagged(['B::x [1]', 'A::z::w [2]', 'B::a [3]', 'B::x [1]', 'C [4]'])],
      [
        ['A', ['z::w [2]']],
        ['B', ['a [3]', 'x [1]']],
        ['C', ['[4]']],
      ],
    );
  });

  it('shows at most four locations', () => {
    assert.equal(locationsText([3, 1, 2]), ' @ 0x1, 0x2, 0x3');
    assert.equal(locationsText([1, 2, 3, 4, 5, 6]), ' @ 0x1, 0x2, 0x3, 0x4, and 2 more...');
    assert.equal(locationsText([]), '');
  });

  it('quotes strings with escapes', () => {
    assert.equal(quoted('a "b"\\\r\n\x01'), '"a \\"b\\"\\\\\\r\\n\\x01"');
  });

  it('draws multi-line cells and keeps alignment under styles', () => {
    assert.deepEqual(boxTable(['h', 'k'], [['a', 'x\ny']]), [
      '+---+---+',
      '| h | k |',
      '|---+---|',
      '| a | x |',
      '|   | y |',
      '+---+---+',
    ]);
    assert.deepEqual(
      plainTable([
        ['key', { text: 'v', style: PLAIN.value }],
        ['k', ''],
      ]),
      ['key  v', 'k'],
    );
  });
});
