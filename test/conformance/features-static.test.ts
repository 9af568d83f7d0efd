/**
 * capa's feature fixtures (`capa-fixtures/features/static.json`): a feature, a place in a
 * sample, and whether capa (vivisect backend) finds it there. This suite runs every case of a
 * native PE sample, at file, function, basic-block and instruction scope. The feature set of a
 * scope is what the engine sees (`matchStatic`): an instruction's features, a block's union of
 * its instructions and its own, a function's union of its blocks and its own — each with the
 * global features.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { analyze, type Program } from '../../src/analysis/index.js';
import { evaluate } from '../../src/engine/evaluate.js';
import { parsePe } from '../../src/format/pe/index.js';
import { FeatureSet } from '../../src/features/feature-set.js';
import { peFileFeatures, peGlobalFeatures } from '../../src/features/pe-file.js';
import { X86FeatureExtractor } from '../../src/features/x86-features.js';
import { parseRule } from '../../src/rules/parse-rule.js';
import { sharedPath } from '../support/shared-data.js';

interface FeatureCase {
  file: string;
  location: string;
  feature: string;
  expected?: boolean;
  explanation?: string;
}

const FUNCTION_NOT_RECOVERED = 'function not recovered';

/**
 * Cases where capa-ts knowingly differs from capa, and why. Each must still differ. Keys are
 * `sample feature` at file scope and `sample location feature` elsewhere.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {
  'pma16-01 function-name: __aulldiv':
    'capa names library functions with FLIRT signatures; capa-ts has no FLIRT (the capa 9.4 reference ran without it too)',
};

const fixtures = sharedPath('capa-fixtures/features/static.json');
const samples = sharedPath('capa-testfiles');

type Scope = 'file' | 'function' | 'basic block' | 'instruction';

/**
 * The case's feature as a one-line rule. Like capa's fixture runner, which evaluates a feature
 * against the extracted set without validating it against the scope, lower scopes use the
 * function scope (which admits every instruction and block feature, e.g. `characteristic:
 * calls from` at an instruction).
 */
function ruleText(c: FeatureCase, scope: Scope): string {
  const feature = c.feature.replace(/^(\w[^:]*): (.*)$/, (_, k: string, v: string) =>
    k.startsWith('count(') ? `${k}: ${v}` : `${k}: ${JSON.stringify(v)}`,
  );
  const ruleScope = scope === 'file' ? 'file' : 'function';
  return `rule:\n  meta:\n    name: case\n    scopes:\n      static: ${ruleScope}\n      dynamic: unsupported\n  features:\n    - ${feature}\n`;
}

function featurePresent(c: FeatureCase, scope: Scope, features: FeatureSet): boolean {
  if (/^basic blocks: /.test(c.feature)) return features.has('basic block');
  return evaluate(parseRule(ruleText(c, scope), c.file).statement, features, false).success;
}

/** A parsed native PE sample: its file features, and its program for the lower scopes. */
interface Sample {
  file: FeatureSet;
  global: FeatureSet;
  program: Program;
  extractor: X86FeatureExtractor;
}

interface Located {
  scope: Scope;
  function?: number;
  bb?: number;
  insn?: number;
}

function parseLocation(location: string): Located {
  if (location === 'file') return { scope: 'file' };
  const parts = Object.fromEntries(
    location.split(',').map((p) => {
      const [k, v] = p.split('=');
      return [k!, Number.parseInt(v!, 16)];
    }),
  );
  if (parts.insn !== undefined)
    return { scope: 'instruction', function: parts.function, bb: parts.bb, insn: parts.insn };
  if (parts.bb !== undefined)
    return { scope: 'basic block', function: parts.function, bb: parts.bb };
  return { scope: 'function', function: parts.function };
}

/** The feature set the engine would see at a location, or an error saying why there is none. */
function featuresAt(sample: Sample, at: Located): FeatureSet | string {
  if (at.scope === 'file') return sample.file;
  const fnInfo = sample.program.functionAt(at.function!);
  if (!fnInfo) return FUNCTION_NOT_RECOVERED;
  const fn = sample.extractor.functionFeatures(sample.program.functions.indexOf(fnInfo));
  const fnSet = new FeatureSet();
  for (const bb of fn.blocks) {
    const bbSet = new FeatureSet();
    for (const insn of bb.instructions) {
      const insnSet = insn.features.clone();
      insnSet.addAll(sample.global);
      if (at.scope === 'instruction' && bb.address === at.bb && insn.address === at.insn)
        return insnSet;
      bbSet.addAll(insnSet);
    }
    bbSet.addAll(bb.features);
    bbSet.addAll(sample.global);
    if (at.scope === 'basic block' && bb.address === at.bb) return bbSet;
    if (at.scope === 'instruction' && bb.address === at.bb)
      return `instruction 0x${at.insn!.toString(16)} not in block`;
    fnSet.addAll(bbSet);
  }
  if (at.scope !== 'function') return `block 0x${at.bb!.toString(16)} not in function`;
  fnSet.addAll(fn.features);
  fnSet.addAll(sample.global);
  return fnSet;
}

if (fixtures && samples) {
  const data = JSON.parse(readFileSync(fixtures, 'utf8')) as {
    files: { key: string; path: string }[];
    features: FeatureCase[];
  };
  const paths = new Map(data.files.map((f) => [f.key, f.path]));
  const cache = new Map<string, Sample | null>();
  const sampleOf = (key: string): Sample | null => {
    if (!cache.has(key)) {
      const bytes = new Uint8Array(readFileSync(join(samples, paths.get(key)!)));
      let sample: Sample | null = null;
      if (bytes[0] === 0x4d && bytes[1] === 0x5a) {
        const image = parsePe(bytes);
        if (!image.dotnet) {
          const global = peGlobalFeatures(image);
          const file = peFileFeatures(image, bytes);
          file.addAll(global);
          const program = analyze(image);
          sample = { file, global, program, extractor: new X86FeatureExtractor(program) };
        }
      }
      cache.set(key, sample);
    }
    return cache.get(key)!;
  };
  /** Whether a sample is a native PE, without analysing it. */
  const isNativePe = (key: string): boolean => {
    const bytes = new Uint8Array(readFileSync(join(samples, paths.get(key)!)));
    return bytes[0] === 0x4d && bytes[1] === 0x5a && !parsePe(bytes).dotnet;
  };
  const native = new Map<string, boolean>();
  for (const key of paths.keys()) native.set(key, isNativePe(key));

  after(() => {
    for (const s of cache.values()) s?.extractor.free();
  });

  const cases = data.features.filter((c) => !c.location.startsWith('token='));
  const scopes: Scope[] = ['file', 'function', 'basic block', 'instruction'];
  for (const scope of scopes) {
    describe(`feature fixtures: ${scope} scope of native PE samples`, () => {
      for (const c of cases) {
        const at = parseLocation(c.location);
        if (at.scope !== scope) continue;
        const id =
          scope === 'file' ? `${c.file} ${c.feature}` : `${c.file} ${c.location} ${c.feature}`;
        const expected = c.expected ?? true;
        const skip = native.get(c.file) ? false : 'not a native PE sample';
        it(`${id} → ${expected}`, { skip }, () => {
          const features = featuresAt(sampleOf(c.file)!, at);
          const known = KNOWN_DIFFERENCES[id];
          if (typeof features === 'string') {
            assert.equal(known, features, `${id}: ${features}`);
            return;
          }
          const got = featurePresent(c, scope, features);
          if (known !== undefined) {
            assert.notEqual(got, expected, `known difference now agrees with capa: ${id}`);
          } else {
            assert.equal(got, expected, c.explanation);
          }
        });
      }
    });
  }
}
