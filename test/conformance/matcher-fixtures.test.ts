/**
 * capa's data-driven matcher tests, read from `capa-fixtures/matcher` as they are: every case
 * must give exactly the matches capa gives.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { matchDynamic } from '../../src/engine/dynamic.js';
import type { Matches } from '../../src/engine/result.js';
import { matchStatic } from '../../src/engine/static.js';
import { parseLocation, type Location } from '../../src/features/location.js';
import { loadRules } from '../../src/rules/load.js';
import {
  dynamicListing,
  readFixtureFile,
  staticListing,
  type FixtureCase,
} from '../support/matcher-fixture.js';
import { sharedPath } from '../support/shared-data.js';

const root = sharedPath('capa-fixtures/matcher');

function run(c: FixtureCase): { actual: Matches; resolve: (l: string | number) => Location } {
  const { ruleSet, errors } = loadRules(c.rules);
  assert.deepEqual(
    errors.map((e) => e.message),
    [],
    'fixture rules must load',
  );
  if (c.flavor === 'static') {
    return {
      actual: matchStatic(ruleSet, staticListing(c.listing)).matches,
      resolve: (l) => parseLocation(String(l)),
    };
  }
  const trace = dynamicListing(c.listing);
  return {
    actual: matchDynamic(ruleSet, trace, { spanSize: c.spanSize }),
    resolve: (l) => (typeof l === 'number' ? trace.calls.get(l)! : parseLocation(l)),
  };
}

if (root) {
  for (const flavor of ['static', 'dynamic'] as const) {
    const dir = join(root, flavor);
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.yml'))
      .sort()) {
      const cases = readFixtureFile(
        readFileSync(join(dir, file), 'utf8'),
        flavor,
        `${flavor}/${file}`,
      );
      describe(`matcher fixtures ${flavor}/${file}`, () => {
        for (const c of cases) {
          it(c.name, () => {
            const { actual, resolve } = run(c);
            for (const name of c.ruleNames) {
              const got = (actual.get(name) ?? []).map(([l]) => l);
              const want = (c.expected.get(name) ?? []).map(resolve);
              assert.deepEqual(
                [...new Set(got)].sort(),
                [...new Set(want)].sort(),
                `matches of rule "${name}"`,
              );
            }
          });
        }
      });
    }
  }
}
