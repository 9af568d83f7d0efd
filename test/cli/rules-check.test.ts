/** `capa-ts rules check`, run as a user runs it: a spawned process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, sharedPath } from '../support/shared-data.js';

function capaTs(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/capa-ts.js'), ...args], {
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const good = (name: string, api: string) =>
  `rule:\n  meta:\n    name: ${name}\n    scopes:\n      static: function\n      dynamic: call\n  features:\n    - api: ${api}\n`;

describe('capa-ts rules check', () => {
  it('exits 0 and says so when every rule loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'capa-ts-rules-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a.yml'), good('a', 'CreateFileA'));
    writeFileSync(join(dir, 'sub', 'b.yml'), good('b', 'WriteFile'));
    const r = capaTs('rules', 'check', dir);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^2 rules loaded from 2 files, no errors$/m);
  });

  it('prints every error with file:line:col and exits 5', () => {
    const dir = mkdtempSync(join(tmpdir(), 'capa-ts-rules-'));
    writeFileSync(join(dir, 'a.yml'), good('a', 'CreateFileA'));
    writeFileSync(join(dir, 'b.yml'), good('b', 'x').replace('api: x', 'export: x'));
    writeFileSync(join(dir, 'c.yml'), good('c', 'x').replace('api: x', 'match: nope'));
    const r = capaTs('rules', 'check', dir);
    assert.equal(r.code, 5);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `${join(dir, 'b.yml')}:8:7: feature \`export\` is not supported in function or call scope`,
      `${join(dir, 'c.yml')}:8:7: match: nope names no rule or namespace`,
    ]);
    assert.match(r.stderr, /^1 rules loaded from 3 files, 2 with errors$/m);
  });

  it('exits 2 on a path that does not exist or a bad option', () => {
    assert.equal(capaTs('rules', 'check', '/no/such/dir').code, 2);
    assert.equal(capaTs('--no-such-option').code, 2);
  });

  const corpus = sharedPath('capa-rules');
  it('passes on the capa-rules corpus', { skip: !corpus }, () => {
    const r = capaTs('rules', 'check', corpus!);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stderr, /^1054 rules loaded from 1054 files, no errors$/m);
  });
});
