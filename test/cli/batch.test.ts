/** Many files at once, and the rule cache, run as a user runs them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/shared-data.js';

function capaTs(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/capa-ts.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'capa-ts-batch-'));
  for (const name of [
    'mailslot_server.x86.exe',
    'mailslot_client.x64.exe',
    'namedpipe_control.x86.exe',
  ]) {
    copyFileSync(join(REPO_ROOT, 'fixtures/bin', name), join(dir, name));
  }
  writeFileSync(join(dir, 'readme.txt'), 'not an executable');
  writeFileSync(
    join(dir, 'cut.exe'),
    readFileSync(join(REPO_ROOT, 'fixtures/bin/features.x86.exe')).subarray(0, 300),
  );
  return dir;
}

describe('capa-ts DIR', () => {
  const cache = { CAPA_TS_CACHE_DIR: mkdtempSync(join(tmpdir(), 'capa-ts-cache-')) };

  it('reports every file, skips bad ones with a reason, and says so in the exit code', () => {
    const dir = folder();
    const r = capaTs(cache, '--jobs', '2', dir);
    assert.equal(r.code, 4, 'a corrupt file makes the run fail');
    assert.match(r.stderr, /cut\.exe: corrupt file: /);
    assert.match(r.stderr, /readme\.txt: unsupported file: not a PE file/);
    assert.match(
      r.stderr,
      /^capa-ts: 5 files in [\d.]+ s, 2 workers: 3 analysed, 1 unsupported, 1 corrupt$/m,
    );
    // reports come in the order of the files, each with its sample table
    const paths = [...r.stdout.matchAll(/path +\| (\S+)/g)].map((m) => m[1]!.split('/').pop());
    assert.deepEqual(paths, [
      'mailslot_client.x64.exe',
      'mailslot_server.x86.exe',
      'namedpipe_control.x86.exe',
    ]);
    assert.match(r.stdout, /create mailslot/);
    assert.doesNotMatch(r.stderr, /\r|\[#/, 'no progress bar when stderr is not a terminal');
  });

  it('prints one JSON document per line with -j', () => {
    const dir = folder();
    const r = capaTs(cache, '-j', dir);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    const docs = lines.map((l) => JSON.parse(l));
    assert.ok(docs.every((d) => d.meta.flavor === 'static'));
    assert.ok(
      'create mailslot' in
        docs.find((d) => d.meta.sample.path.endsWith('mailslot_server.x86.exe')).rules,
    );
  });

  it('exits 0 when every file is analysed', () => {
    const r = capaTs(
      cache,
      join(REPO_ROOT, 'fixtures/bin/mailslot_server.x86.exe'),
      join(REPO_ROOT, 'fixtures/bin/mailslot_wide.x86.exe'),
    );
    assert.equal(r.code, 0, r.stderr);
  });
});

describe('the rule cache', () => {
  it('is written on the first run, keyed by the rules, and skipped with --no-cache', () => {
    const dir = mkdtempSync(join(tmpdir(), 'capa-ts-cache-'));
    const file = join(REPO_ROOT, 'fixtures/bin/mailslot_server.x86.exe');
    const off = capaTs({ CAPA_TS_CACHE_DIR: dir }, '--no-cache', file);
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(readdirSync(dir), []);
    const cold = capaTs({ CAPA_TS_CACHE_DIR: dir }, file);
    assert.equal(readdirSync(dir).filter((f) => /^rules-[0-9a-f]{64}\.json$/.test(f)).length, 1);
    const warm = capaTs({ CAPA_TS_CACHE_DIR: dir }, file);
    assert.equal(warm.stdout, cold.stdout, 'the cache changes nothing in the results');
    assert.equal(readdirSync(dir).length, 1);
  });
});
