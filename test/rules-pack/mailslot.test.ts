/**
 * The bundled mailslot rules on our own test programs: each rule matches exactly the
 * functions it should, in 32- and 64-bit builds, and nothing in the named-pipe control.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findCapabilities } from '../../src/capabilities/find-capabilities.js';
import { NO_ADDRESS } from '../../src/features/location.js';
import { readRuleFiles } from '../../src/node/rule-files.js';
import { loadRules } from '../../src/rules/load.js';
import { REPO_ROOT, sharedPath } from '../support/shared-data.js';

const { ruleSet, errors } = loadRules(
  readRuleFiles([join(REPO_ROOT, 'rules/communication/mailslot')]),
);

/** Program → rule → the functions (by name in the symbols file) it must match; `file` for file scope. */
const EXPECTED: Record<string, Record<string, string[]>> = {
  mailslot_server: {
    'create mailslot': ['create_server_mailslot'],
    'read from mailslot': ['read_waiting_messages'],
    'query or change mailslot state': [
      'poll_mailslot',
      'set_read_timeout',
      'read_waiting_messages',
    ],
    'reference mailslot name': ['create_server_mailslot'],
    'communicate via mailslot': ['file'],
  },
  mailslot_client: {
    'reference mailslot name': ['send_to_local_mailslot', 'send_to_remote_mailslot'],
    'write to mailslot': ['send_to_local_mailslot'],
    'communicate via mailslot': ['file'],
  },
  mailslot_broadcast: {
    'reference mailslot name': ['open_broadcast_mailslot'],
    'write to mailslot': ['open_broadcast_mailslot'],
    'broadcast to a domain mailslot': ['open_broadcast_mailslot'],
    'communicate via mailslot': ['file'],
  },
  mailslot_resolver: {
    'resolve mailslot API at run time': ['resolve_create_mailslot', 'resolve_get_mailslot_info'],
    'reference mailslot name': ['create_resolved_mailslot'],
    'communicate via mailslot': ['file'],
  },
  mailslot_stackname: {
    'create mailslot': ['create_stackname_mailslot'],
    'reference mailslot name': ['create_stackname_mailslot'],
    'communicate via mailslot': ['file'],
  },
  mailslot_wide: {
    'create mailslot': ['create_wide_mailslot'],
    'reference mailslot name': ['create_wide_mailslot', 'write_wide_mailslot'],
    'write to mailslot': ['write_wide_mailslot'],
    'communicate via mailslot': ['file'],
  },
  namedpipe_control: {},
};

describe('mailslot rules on the fixture programs', () => {
  it('load without errors', () =>
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
    ));

  for (const [program, expected] of Object.entries(EXPECTED)) {
    for (const arch of ['x86', 'x64']) {
      it(`${program}.${arch}`, () => {
        const bin = join(REPO_ROOT, 'fixtures/bin', `${program}.${arch}.exe`);
        const symbols = JSON.parse(
          readFileSync(bin.replace(/\.exe$/, '.symbols.json'), 'utf8'),
        ) as Record<string, number>;
        const names = new Map(Object.entries(symbols).map(([k, v]) => [v, k]));
        const { matches } = findCapabilities(new Uint8Array(readFileSync(bin)), ruleSet);
        const got: Record<string, string[]> = {};
        for (const rule of ruleSet.namedRules) {
          const found = matches.get(rule.name);
          if (!found) continue;
          got[rule.name] = found
            .map(([l]) =>
              l === NO_ADDRESS
                ? 'file'
                : (names.get(l as number) ?? `0x${(l as number).toString(16)}`),
            )
            .sort();
        }
        const want = Object.fromEntries(
          Object.entries(expected).map(([k, v]) => [k, [...v].sort()]),
        );
        assert.deepEqual(got, want);
      });
    }
  }
});

describe('mailslot rules on real samples', () => {
  const samples = sharedPath('capa-testfiles');
  const upstream = sharedPath('capa-rules/communication/mailslot');
  const at = (file: string, rules: typeof ruleSet) => {
    const { matches } = findCapabilities(new Uint8Array(readFileSync(join(samples!, file))), rules);
    return (name: string) => (matches.get(name) ?? []).map(([l]) => l);
  };

  it('the seed sample creates and reads its mailslot at 0x40151D', { skip: !samples }, () => {
    const found = at('af13e7583ed1b27c4ae219e344a37e2b.exe_', ruleSet);
    assert.deepEqual(found('create mailslot'), [0x40151d]);
    assert.deepEqual(found('read from mailslot'), [0x40151d]);
    assert.deepEqual(found('reference mailslot name'), [0x40151d]);
    assert.deepEqual(found('communicate via mailslot'), [NO_ADDRESS]);
  });

  it('cc870a35… reads from a mailslot at 0x4010F0', { skip: !samples }, () => {
    assert.deepEqual(
      at('cc870a35c6840987dcb8c2dd46bc230a.exe_', ruleSet)('read from mailslot'),
      [0x4010f0],
    );
  });

  it("capa's own mailslot rules match there too", { skip: !samples || !upstream }, () => {
    const { ruleSet: capaRules, errors: capaErrors } = loadRules(readRuleFiles([upstream!]));
    assert.deepEqual(capaErrors, []);
    const seed = at('af13e7583ed1b27c4ae219e344a37e2b.exe_', capaRules);
    assert.deepEqual(seed('create mailslot'), [0x40151d]);
    assert.deepEqual(seed('read from mailslot'), [0x40151d]);
    assert.deepEqual(
      at('cc870a35c6840987dcb8c2dd46bc230a.exe_', capaRules)('read from mailslot'),
      [0x4010f0],
    );
  });
});

describe('the report names the slot', () => {
  const samples = sharedPath('capa-testfiles');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'bin/capa-ts.js'), ...args], { encoding: 'utf8' });

  it('in the default report, next to the capability', { skip: !samples }, () => {
    const r = run(join(samples!, 'af13e7583ed1b27c4ae219e344a37e2b.exe_'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^\| create mailslot +\| communication\/mailslot +\| \\\\\.\\mailslot\\LogCC +\|$/m,
    );
    assert.match(
      r.stdout,
      /^\| read from mailslot +\| communication\/mailslot +\| \\\\\.\\mailslot\\LogCC +\|$/m,
    );
  });

  it('in the JSON result document, as the captures of the match', { skip: !samples }, () => {
    const r = run('-j', join(samples!, 'af13e7583ed1b27c4ae219e344a37e2b.exe_'));
    const doc = JSON.parse(r.stdout);
    const captures: string[] = [];
    const walk = (node: { captures: Record<string, unknown>; children: unknown[] }) => {
      captures.push(...Object.keys(node.captures));
      for (const c of node.children) walk(c as typeof node);
    };
    walk(doc.rules['create mailslot'].matches[0][1]);
    assert.deepEqual(captures, ['\\\\.\\mailslot\\LogCC']);
  });

  it('for a name built on the stack', () => {
    const r = run(join(REPO_ROOT, 'fixtures/bin/mailslot_stackname.x86.exe'));
    assert.match(r.stdout, /^\| create mailslot .*\\\\\.\\mailslot\\stackslot +\|$/m);
  });
});
