/**
 * capa's feature fixtures (`capa-fixtures/features/static.json`): a feature, a place in a
 * sample, and whether capa finds it there. This suite runs the file-scope cases of native PE
 * samples; function-scope cases join when code analysis lands.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evaluate } from '../../src/engine/evaluate.js';
import { parsePe } from '../../src/format/pe/index.js';
import { FeatureSet } from '../../src/features/feature-set.js';
import { peFileFeatures, peGlobalFeatures } from '../../src/features/pe-file.js';
import { parseRule } from '../../src/rules/parse-rule.js';
import { sharedPath } from '../support/shared-data.js';

interface FeatureCase {
  file: string;
  location: string;
  feature: string;
  expected?: boolean;
  explanation?: string;
}

/** Cases where capa-ts knowingly differs from capa, and why. Each must still differ. */
const KNOWN_DIFFERENCES: Record<string, string> = {
  'pma16-01 function-name: __aulldiv':
    'capa names library functions with FLIRT signatures; capa-ts has no FLIRT (the capa 9.4 reference ran without it too)',
};

const fixtures = sharedPath('capa-fixtures/features/static.json');
const samples = sharedPath('capa-testfiles');

function featurePresent(c: FeatureCase, features: FeatureSet): boolean {
  const m = /^basic blocks: /.exec(c.feature);
  if (m) return features.has('basic block');
  const text = `rule:\n  meta:\n    name: case\n    scopes:\n      static: file\n      dynamic: unsupported\n  features:\n    - ${c.feature.replace(/^(\w[^:]*): (.*)$/, (_, k: string, v: string) => `${k}: ${JSON.stringify(v)}`)}\n`;
  return evaluate(parseRule(text, c.file).statement, features, false).success;
}

if (fixtures && samples) {
  const data = JSON.parse(readFileSync(fixtures, 'utf8')) as {
    files: { key: string; path: string }[];
    features: FeatureCase[];
  };
  const paths = new Map(data.files.map((f) => [f.key, f.path]));
  const cache = new Map<string, FeatureSet | null>();
  const featuresOf = (key: string): FeatureSet | null => {
    if (!cache.has(key)) {
      const bytes = new Uint8Array(readFileSync(join(samples, paths.get(key)!)));
      let fs: FeatureSet | null = null;
      if (bytes[0] === 0x4d && bytes[1] === 0x5a) {
        const image = parsePe(bytes);
        if (!image.dotnet) {
          fs = peFileFeatures(image, bytes);
          fs.addAll(peGlobalFeatures(image));
        }
      }
      cache.set(key, fs);
    }
    return cache.get(key)!;
  };

  describe('feature fixtures: file scope of native PE samples', () => {
    for (const c of data.features.filter((x) => x.location === 'file')) {
      const id = `${c.file} ${c.feature}`;
      const expected = c.expected ?? true;
      const native = featuresOf(c.file) !== null;
      it(`${id} → ${expected}`, { skip: native ? false : 'not a native PE sample' }, () => {
        const got = featurePresent(c, featuresOf(c.file)!);
        if (KNOWN_DIFFERENCES[id]) {
          assert.notEqual(got, expected, `known difference now agrees with capa: ${id}`);
        } else {
          assert.equal(got, expected, c.explanation);
        }
      });
    }
  });
}
