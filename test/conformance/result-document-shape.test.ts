/**
 * Our JSON result document has the shape of a real capa one (capa-fixtures/rd): every field
 * capa writes is there, with the same JSON type, down to the evaluation trees — so tools that
 * read capa's JSON read ours. Both documents are for the same sample.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT, sharedPath } from '../support/shared-data.js';

const SAMPLE = 'Practical Malware Analysis Lab 01-01.dll_';
const rd = sharedPath('capa-fixtures/rd');
const samples = sharedPath('capa-testfiles');
const rules = sharedPath('capa-rules');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function kind(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * Every path where `theirs` has a field that `ours` lacks or types differently. Arrays are
 * compared element-wise by shape (each of ours against the union of theirs' element fields);
 * `rules` is compared for the rules both matched.
 */
function differences(theirs: Json, ours: Json, path: string, out: string[]): void {
  const kt = kind(theirs);
  const ko = kind(ours);
  if (kt === 'null' || ko === 'null') return; // optional values (namespace, description)
  if (kt !== ko) {
    out.push(`${path}: capa has ${kt}, ours ${ko}`);
    return;
  }
  if (kt === 'array') {
    const t = theirs as Json[];
    const o = ours as Json[];
    if (t.length === 0 || o.length === 0) return;
    if (path.endsWith('.matches[]')) {
      // a match is an [address, tree] pair
      t.forEach((item, i) => differences(item, o[i] ?? null, `${path}[${i}]`, out));
      return;
    }
    for (const item of o.slice(0, 20)) differences(t[0]!, item, `${path}[]`, out);
    return;
  }
  if (kt !== 'object') return;
  const t = theirs as { [k: string]: Json };
  const o = ours as { [k: string]: Json };
  // tagged unions (nodes, features, addresses): only variants of the same type compare
  if ('type' in t && 'type' in o && t.type !== o.type) return;
  const keys = path === '.rules' ? Object.keys(t).filter((k) => k in o) : Object.keys(t);
  for (const key of keys) {
    if (!(key in o)) {
      // a feature or statement node carries the fields of its own type only
      if (path.endsWith('.feature') || path.endsWith('.statement')) continue;
      out.push(`${path}.${key}: missing`);
      continue;
    }
    differences(t[key]!, o[key]!, `${path}.${key}`, out);
  }
}

it("has every field of capa's result document", { skip: !rd || !samples || !rules }, () => {
  const theirs = JSON.parse(readFileSync(join(rd!, `${SAMPLE}.json`), 'utf8')) as Json;
  const r = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'bin/capa-ts.js'), '-j', '-r', rules!, join(samples!, SAMPLE)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const ours = JSON.parse(r.stdout) as { [k: string]: Json };
  const out: string[] = [];
  differences(theirs, ours, '', out);
  assert.deepEqual(out, []);
  // the rules: those capa 9.4 matches with today's capa-rules (the fixture is older, and
  // some rules have been renamed since)
  const reference = sharedPath('reference/capa-9.4');
  if (reference) {
    const ref = JSON.parse(readFileSync(join(reference, `${SAMPLE}.json`), 'utf8')) as {
      matched_rule_names: string[];
    };
    const rulesDoc = ours.rules as { [name: string]: { meta: { is_subscope_rule: boolean } } };
    const named = Object.keys(rulesDoc).filter((k) => !rulesDoc[k]!.meta.is_subscope_rule);
    assert.deepEqual(named.sort(), [...ref.matched_rule_names].sort());
  }
});
