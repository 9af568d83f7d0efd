/** `capa-ts FILE` and `capa-ts features FILE`, run as a user runs them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/shared-data.js';

function capaTs(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/capa-ts.js'), ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FIXTURE = join(REPO_ROOT, 'fixtures/bin/features.x86.exe');
const symbols = JSON.parse(
  readFileSync(join(REPO_ROOT, 'fixtures/bin/features.x86.symbols.json'), 'utf8'),
) as Record<string, number>;

function ruleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'capa-ts-rules-'));
  const rule = (name: string, scope: string, features: string, extra = '') =>
    `rule:\n  meta:\n    name: ${name}\n    namespace: test/${name.replace(/ /g, '-')}\n${extra}    scopes:\n      static: ${scope}\n      dynamic: unsupported\n  features:\n${features}`;
  writeFileSync(
    join(dir, 'tick.yml'),
    rule('get tick count', 'function', '    - api: kernel32.GetTickCount\n'),
  );
  writeFileSync(
    join(dir, 'xor.yml'),
    rule(
      'xor in a loop',
      'function',
      '    - and:\n      - characteristic: nzxor\n      - characteristic: tight loop\n',
    ),
  );
  writeFileSync(
    join(dir, 'lib.yml'),
    rule('a library rule', 'file', '    - format: pe\n', '    lib: true\n'),
  );
  return dir;
}

describe('capa-ts FILE', () => {
  const rules = ruleDir();

  it('reports the capabilities of a PE, hiding library rules', () => {
    const r = capaTs('-v', '-r', rules, FIXTURE);
    assert.equal(r.code, 0, r.stderr);
    const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;
    const lines = r.stdout.split('\n');
    assert.match(r.stdout, /^get tick count( \(\d+ matches\))?$/m);
    assert.ok(lines.includes(`function @ ${hex(symbols.api_via_iat!)}`), r.stdout);
    assert.ok(lines.includes(`function @ ${hex(symbols.api_via_thunk!)}`), r.stdout);
    assert.match(r.stdout, /^xor in a loop( \(\d+ matches\))?$/m);
    assert.ok(lines.includes(`function @ ${hex(symbols.xor_decode!)}`), r.stdout);
    assert.doesNotMatch(r.stdout, /a library rule/);
    assert.match(r.stdout, /^md5 +[0-9a-f]{32}$/m);
  });

  it("prints capa's result document with -j", () => {
    const r = capaTs('-j', '-r', rules, FIXTURE);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.meta.flavor, 'static');
    assert.ok(doc.meta.version >= '7.0.0', 'capa Explorer Web compares the version as a string');
    assert.equal(doc.meta.analysis.arch, 'i386');
    assert.deepEqual(doc.meta.analysis.base_address, { type: 'absolute', value: 0x400000 });
    assert.ok('a library rule' in doc.rules, 'the document keeps library rules');
    const tick = doc.rules['get tick count'];
    assert.equal(tick.meta.namespace, 'test/get-tick-count');
    const [address, tree] = tick.matches[0];
    assert.equal(address.type, 'absolute');
    assert.equal(tree.node.feature.type, 'api');
    assert.equal(tree.success, true);
  });

  it('refuses what it cannot analyse, with a reason and a distinct exit code', () => {
    const notPe = join(mkdtempSync(join(tmpdir(), 'capa-ts-')), 'notes.txt');
    writeFileSync(notPe, 'just text');
    const r = capaTs('-r', rules, notPe);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /unsupported file: not a PE file/);
    const truncated = join(mkdtempSync(join(tmpdir(), 'capa-ts-')), 'cut.exe');
    writeFileSync(truncated, readFileSync(FIXTURE).subarray(0, 0x100));
    const t = capaTs('-r', rules, truncated);
    assert.equal(t.code, 4, t.stderr);
    assert.match(t.stderr, /corrupt file/);
    assert.equal(capaTs('-r', rules, '/no/such/file').code, 2);
  });
});

describe('capa-ts features FILE', () => {
  it('lists the features of one function in the fixture notation', () => {
    const fn = symbols.recursive_fib!;
    const r = capaTs('features', FIXTURE, '--function', `0x${fn.toString(16)}`);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], `func: 0x${fn.toString(16).toUpperCase()}`);
    assert.ok(
      lines.some((l) => /^ +insn: 0x[0-9A-F]+: characteristic\(recursive call\) -> /.test(l)),
      r.stdout,
    );
    assert.ok(lines.some((l) => /^ +bb: 0x[0-9A-F]+: basic block$/.test(l)));
  });
});
