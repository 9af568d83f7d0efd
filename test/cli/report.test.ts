/** The report options of `capa-ts FILE`, run as a user runs them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { filterRulesByTag } from '../../src/cli/rule-filter.js';
import { loadRules } from '../../src/rules/load.js';
import { REPO_ROOT } from '../support/shared-data.js';

function capaTs(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/capa-ts.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '', CAPA_TS_RULES: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FIXTURE = join(REPO_ROOT, 'fixtures/bin/features.x86.exe');
const symbols = JSON.parse(
  readFileSync(join(REPO_ROOT, 'fixtures/bin/features.x86.symbols.json'), 'utf8'),
) as Record<string, number>;
const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;
const ANSI = /\x1b\[[0-9;]*m/; // eslint-disable-line no-control-regex

const rule = (name: string, scope: string, features: string, meta = '') =>
  `rule:\n  meta:\n    name: ${name}\n${meta}    scopes:\n      static: ${scope}\n      dynamic: unsupported\n  features:\n${features}`;

const RULES: Record<string, string> = {
  'tick.yml': rule(
    'get tick count',
    'function',
    '    - api: kernel32.GetTickCount\n',
    '    namespace: host-interaction/time\n    att&ck:\n      - Discovery::System Time Discovery [T1124]\n    mbc:\n      - Discovery::System Time Discovery [E1124]\n',
  ),
  'xor.yml': rule(
    'xor in a loop',
    'function',
    '    - and:\n      - characteristic: nzxor\n      - characteristic: tight loop\n',
    '    namespace: data-manipulation/encoding/xor\n',
  ),
  'wrapper.yml': rule(
    'time via a wrapper',
    'function',
    '    - match: get tick count\n',
    '    namespace: special/wrapper\n',
  ),
  'lib.yml': rule('a library rule', 'file', '    - format: pe\n', '    lib: true\n'),
};

function ruleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'capa-ts-report-rules-'));
  for (const [file, text] of Object.entries(RULES)) writeFileSync(join(dir, file), text);
  return dir;
}

describe('capa-ts FILE reports', () => {
  const rules = ruleDir();

  it('prints the sample, ATT&CK, MBC and capability tables by default', () => {
    const r = capaTs('-r', rules, FIXTURE);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\| md5 +\| [0-9a-f]{32} +\|$/m);
    assert.match(r.stdout, /^\| DISCOVERY +\| System Time Discovery \[T1124\] +\|$/m);
    assert.match(r.stdout, /^\| MBC Objective +\| MBC Behavior +\|$/m);
    assert.match(r.stdout, /^\| DISCOVERY +\| System Time Discovery \[E1124\] +\|$/m);
    assert.match(r.stdout, /^\| get tick count \(\d+ matches\) +\| host-interaction\/time +\|$/m);
    assert.match(
      r.stdout,
      /^\| xor in a loop( \(\d+ matches\))? +\| data-manipulation\/encoding\/xor +\|$/m,
    );
    assert.doesNotMatch(r.stdout, /a library rule/);
    assert.doesNotMatch(r.stdout, ANSI, 'no colour when piped');
  });

  it('lists every match address with -v', () => {
    const r = capaTs('-v', '-r', rules, FIXTURE);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => /^get tick count \(\d+ matches\)$/.test(l));
    assert.ok(at >= 0, r.stdout);
    assert.equal(lines[at + 1], 'namespace  host-interaction/time');
    assert.equal(lines[at + 2], 'scope      function');
    assert.ok(lines.includes(`function @ ${hex(symbols.api_via_iat!)}`), r.stdout);
    assert.ok(lines.includes(`function @ ${hex(symbols.api_via_thunk!)}`), r.stdout);
    assert.ok(lines.includes(`function @ ${hex(symbols.xor_decode!)}`), r.stdout);
    assert.doesNotMatch(r.stdout, /^ +api:/m, 'no trees with -v');
  });

  it('prints the evaluation tree of every match with -vv', () => {
    const r = capaTs('-vv', '-r', rules, FIXTURE);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}api: GetTickCount @ 0x[0-9A-F]+$/m);
    assert.match(r.stdout, /^ {2}and:\n {4}characteristic: nzxor @ 0x[0-9A-F]+/m);
    assert.match(r.stdout, /^ {2}match: get tick count @ 0x[0-9A-F]+$/m);
    assert.equal(capaTs('--vverbose', '-r', rules, FIXTURE).stdout, r.stdout);
  });

  it('colours with --color always, never with --color never', () => {
    const always = capaTs('--color', 'always', '-r', rules, FIXTURE);
    assert.equal(always.code, 0, always.stderr);
    assert.match(always.stdout, ANSI);
    assert.ok(always.stdout.includes('\x1b[34mget tick count\x1b[0m'), always.stdout);
    const never = capaTs('--color', 'never', '-vv', '-r', rules, FIXTURE);
    assert.doesNotMatch(never.stdout, ANSI);
    const bad = capaTs('--color', 'sometimes', '-r', rules, FIXTURE);
    assert.equal(bad.code, 2);
  });

  it('prints nothing with -q', () => {
    const r = capaTs('-q', '-r', rules, FIXTURE);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
  });

  it('keeps only tagged rules with -t, matching their dependencies unreported', () => {
    const r = capaTs('-t', 'special', '-r', rules, FIXTURE);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\| time via a wrapper/m);
    assert.doesNotMatch(r.stdout, /get tick count/);
    assert.doesNotMatch(r.stdout, /xor in a loop/);
    const t = capaTs('-t', 'T1124', '-r', rules, FIXTURE);
    assert.match(t.stdout, /^\| get tick count/m);
    assert.doesNotMatch(t.stdout, /time via a wrapper|xor in a loop/);
  });

  it('analyses only the functions given to --restrict-to-functions', () => {
    const r = capaTs(
      '-v',
      '--restrict-to-functions',
      hex(symbols.xor_decode!),
      '-r',
      rules,
      FIXTURE,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^xor in a loop$/m);
    assert.doesNotMatch(r.stdout, /get tick count/);
    const bad = capaTs('--restrict-to-functions', 'main', '-r', rules, FIXTURE);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^capa-ts: --restrict-to-functions: not an address: main\n$/);
  });

  it('rejects an unknown --os and an unsupported --format in one line', () => {
    const os = capaTs('--os', 'plan9', '-r', rules, FIXTURE);
    assert.equal(os.code, 2);
    assert.match(os.stderr, /^capa-ts: --os plan9: unknown os \(one of auto, windows, [^\n]*\)\n$/);
    assert.equal(os.stdout, '');
    const format = capaTs('--format', 'elf', '-r', rules, FIXTURE);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /^capa-ts: --format elf: not supported[^\n]*\n$/);
    assert.equal(capaTs('--format', 'pe', '--os', 'windows', '-q', '-r', rules, FIXTURE).code, 0);
  });

  it('matches rules against the os given to --os', () => {
    const r = capaTs('-j', '--os', 'linux', '-r', rules, FIXTURE);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).meta.analysis.os, 'linux');
  });
});

describe('filterRulesByTag', () => {
  it('keeps tagged rules, their dependencies and their subscopes', () => {
    const { ruleSet } = loadRules([
      ...Object.entries(RULES).map(([path, text]) => ({ path, text })),
      {
        path: 'sub.yml',
        text: rule(
          'special block',
          'function',
          '    - and:\n      - basic block:\n        - characteristic: nzxor\n      - match: xor in a loop\n',
          '    namespace: special/block\n',
        ),
      },
    ]);
    assert.equal(ruleSet.byName.has('special block'), true);
    const { ruleSet: kept, tagged } = filterRulesByTag(ruleSet, 'special');
    assert.deepEqual([...tagged].sort(), ['special block', 'time via a wrapper']);
    assert.deepEqual(kept.rules.map((r) => r.name).sort(), [
      'get tick count',
      'special block',
      'special block/basic block 1',
      'time via a wrapper',
      'xor in a loop',
    ]);
  });
});
