/**
 * The sample behind the original request, with capa's rule corpus: the default report lists
 * the same capabilities capa 9.4 reports (library rules aside, as capa hides them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT, sharedPath } from '../support/shared-data.js';

const SAMPLE = 'af13e7583ed1b27c4ae219e344a37e2b.exe_';

/** capa 9.4's non-library matches on the sample (reference/capa-9.4), pinned. */
const CAPA_9_4 = [
  'access PEB ldr_data',
  'act as TCP client',
  'allocate or change RWX memory',
  'check OS version',
  'connect TCP socket',
  'connect socket',
  'create TCP socket',
  'create mailslot',
  'create thread',
  'encode data using XOR',
  'enumerate processes',
  'initialize Winsock library',
  'inject thread',
  'link function at runtime on Windows',
  'parse PE header',
  'parse credit card information',
  'read file on Windows',
  'read from mailslot',
  'reference analysis tools strings',
  'resolve DNS',
  'resolve function by parsing PE exports',
  'send HTTP request',
  'send HTTP request with Host header',
  'send data',
  'send data on socket',
  'spawn thread to RWX shellcode',
  'terminate process',
  'validate payment card number using luhn algorithm',
];

const samples = sharedPath('capa-testfiles');
const rules = sharedPath('capa-rules');
const reference = sharedPath('reference/capa-9.4');

it('the pinned list is capa 9.4 reference', { skip: !reference }, () => {
  const ref = JSON.parse(readFileSync(join(reference!, `${SAMPLE}.json`), 'utf8')) as {
    matched_rules: { name: string; lib: boolean }[];
  };
  assert.deepEqual(
    ref.matched_rules
      .filter((r) => !r.lib)
      .map((r) => r.name)
      .sort(),
    [...CAPA_9_4].sort(),
  );
});

it('the default report lists the capabilities capa lists', { skip: !samples || !rules }, () => {
  const r = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'bin/capa-ts.js'), '--no-cache', '-r', rules!, join(samples!, SAMPLE)],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const table = r.stdout.slice(r.stdout.indexOf('| Capability'));
  const names = [...table.matchAll(/^\| (.+?)(?: \(\d+ matches\))? +\| /gm)]
    .map((m) => m[1]!)
    .filter((n) => n !== 'Capability');
  assert.deepEqual(names.sort(), [...CAPA_9_4].sort());
});
