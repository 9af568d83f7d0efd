/**
 * `npm run conformance`: how faithfully capa-ts reproduces capa on capa's own test samples.
 *
 * 1. Rule examples: every `examples:` entry of capa-rules whose sample is a native x86/x64 PE
 *    in capa-testfiles — capa-ts must report that rule for that sample (recall), and, for
 *    information, at the given address or inside the function at that address.
 * 2. Agreement with capa 9.4 (reference/capa-9.4): per sample, the rules capa-ts matches and
 *    capa does not and vice versa, and the Jaccard index of the two sets.
 *
 * Reads the shared data from CAPA_TS_SHARED (default ../shared). `--json FILE` also writes
 * the figures as JSON; `--sample NAME` limits the run to samples whose name contains NAME.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findCapabilities, type FileCapabilities } from '../src/capabilities/find-capabilities.js';
import { readRuleFiles } from '../src/node/rule-files.js';
import { SampleIndex, parseExample } from '../src/node/sample-index.js';
import { loadRules } from '../src/rules/load.js';

const SHARED = process.env.CAPA_TS_SHARED ?? join(process.cwd(), '..', 'shared');
const SAMPLES = join(SHARED, 'capa-testfiles');
const REFERENCE = join(SHARED, 'reference', 'capa-9.4');

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const jsonOut = option('--json');
const only = option('--sample');

const { ruleSet, errors } = loadRules(readRuleFiles([join(SHARED, 'capa-rules')]));
if (errors.length > 0) throw new Error(`capa-rules failed to load: ${errors[0]!.message}`);

const samples = new SampleIndex([SAMPLES]);

type Outcome = { ok: true; result: FileCapabilities; ms: number } | { ok: false; reason: string };
const outcomes = new Map<string, Outcome>();
function analyse(file: string): Outcome {
  let o = outcomes.get(file);
  if (!o) {
    const t = performance.now();
    try {
      const result = findCapabilities(new Uint8Array(readFileSync(join(SAMPLES, file))), ruleSet);
      o = { ok: true, result, ms: performance.now() - t };
    } catch (e) {
      o = { ok: false, reason: (e as Error).message };
    }
    outcomes.set(file, o);
  }
  return o;
}

const named = (r: FileCapabilities) =>
  new Set([...r.matches.keys()].filter((n) => ruleSet.byName.get(n)?.parent === undefined));

// --- 1. rule examples ------------------------------------------------------------------------
interface Example {
  rule: string;
  sample: string;
  address?: number;
  hit: boolean;
  atAddress: boolean;
  inFunction: boolean;
}
const examples: Example[] = [];
let unresolved = 0;
let notNative = 0;
for (const rule of ruleSet.namedRules) {
  for (const example of rule.meta.examples) {
    const { sample, address } = parseExample(example);
    const path = samples.find(sample);
    if (!path) {
      unresolved++;
      continue;
    }
    const file = basename(path);
    if (only && !file.includes(only)) continue;
    const o = analyse(file);
    if (!o.ok) {
      notNative++;
      continue;
    }
    const found = o.result.matches.get(rule.name) ?? [];
    const program = o.result.program;
    const fn = address === undefined ? undefined : program.functionAt(address);
    // a match location inside one of the function's blocks (or the function itself)
    const inFn = (l: unknown) => {
      if (typeof l !== 'number' || fn === undefined) return false;
      if (l === fn.address) return true;
      for (let b = fn.firstBlock; b < fn.firstBlock + fn.blockCount; b++) {
        if (l >= program.blockStart[b]! && l < program.blockEnd[b]!) return true;
      }
      return false;
    };
    examples.push({
      rule: rule.name,
      sample: file,
      address,
      hit: found.length > 0,
      atAddress: address !== undefined && found.some(([l]) => l === address),
      inFunction: address !== undefined && found.some(([l]) => inFn(l)),
    });
  }
}
const hits = examples.filter((e) => e.hit).length;
const withAddress = examples.filter((e) => e.address !== undefined);
const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);

console.log('== rule examples (native x86/x64 PE samples) ==');
console.log(
  `examples checked: ${examples.length} (${unresolved} name no sample in capa-testfiles, ${notNative} are not native PE)`,
);
console.log(`recall: ${hits}/${examples.length} = ${pct(hits, examples.length)}`);
console.log(
  `of ${withAddress.length} examples with an address: at the address ${withAddress.filter((e) => e.atAddress).length}, in the function there ${withAddress.filter((e) => e.inFunction).length}`,
);
const perRule = new Map<string, { n: number; hit: number }>();
for (const e of examples) {
  const r = perRule.get(e.rule) ?? { n: 0, hit: 0 };
  r.n++;
  if (e.hit) r.hit++;
  perRule.set(e.rule, r);
}
console.log('\nper rule (rules with a miss):');
for (const [rule, r] of [...perRule].sort()) {
  if (r.hit < r.n) console.log(`  ${rule}: ${r.hit}/${r.n}`);
}
console.log('\nmisses:');
for (const e of examples.filter((x) => !x.hit)) {
  console.log(
    `  ${e.rule} — ${e.sample}${e.address !== undefined ? `:0x${e.address.toString(16)}` : ''}`,
  );
}

// --- 2. agreement with capa 9.4 --------------------------------------------------------------
interface Agreement {
  sample: string;
  jaccard: number;
  extra: string[];
  missing: string[];
  ms: number;
}
const agreements: Agreement[] = [];
const refused: [string, string][] = [];
if (existsSync(REFERENCE)) {
  for (const file of readdirSync(REFERENCE).sort()) {
    const sample = file.replace(/\.json$/, '');
    if (only && !sample.includes(only)) continue;
    const ref = JSON.parse(readFileSync(join(REFERENCE, file), 'utf8')) as {
      format: string;
      matched_rule_names: string[];
    };
    if (ref.format !== 'pe') continue;
    const o = analyse(sample);
    if (!o.ok) {
      refused.push([sample, o.reason]);
      continue;
    }
    const ours = named(o.result);
    const theirs = new Set(ref.matched_rule_names);
    const both = [...ours].filter((n) => theirs.has(n)).length;
    const union = ours.size + theirs.size - both;
    agreements.push({
      sample,
      jaccard: union === 0 ? 1 : both / union,
      extra: [...ours].filter((n) => !theirs.has(n)).sort(),
      missing: [...theirs].filter((n) => !ours.has(n)).sort(),
      ms: o.ms,
    });
  }
}
console.log('\n== agreement with capa 9.4 (reference) ==');
let extraTotal = 0;
let missingTotal = 0;
let bothTotal = 0;
for (const a of agreements) {
  extraTotal += a.extra.length;
  missingTotal += a.missing.length;
  console.log(
    `${a.jaccard.toFixed(3)}  ${a.sample}  +${a.extra.length} -${a.missing.length}  ${a.ms.toFixed(0)} ms`,
  );
  if (a.extra.length) console.log(`        capa-ts only: ${a.extra.join(' | ')}`);
  if (a.missing.length) console.log(`        capa only:    ${a.missing.join(' | ')}`);
}
for (const a of agreements) {
  const o = outcomes.get(a.sample) as { ok: true; result: FileCapabilities };
  bothTotal += named(o.result).size - a.extra.length;
}
const mean = agreements.reduce((s, a) => s + a.jaccard, 0) / (agreements.length || 1);
const pooled = bothTotal / (bothTotal + extraTotal + missingTotal || 1);
console.log(
  `\nsamples: ${agreements.length} (refused: ${refused.length}${refused.length ? ' — ' + refused.map(([s, r]) => `${s}: ${r}`).join('; ') : ''})`,
);
console.log(
  `mean Jaccard per sample: ${mean.toFixed(3)}; pooled over all (sample, rule) pairs: ${pooled.toFixed(3)}`,
);
console.log(
  `(sample, rule) pairs: both ${bothTotal}, capa-ts only ${extraTotal}, capa only ${missingTotal}`,
);

if (jsonOut) {
  writeFileSync(
    jsonOut,
    JSON.stringify(
      {
        recall: { hits, total: examples.length, examples },
        agreement: { mean, pooled, samples: agreements, refused },
      },
      null,
      2,
    ),
  );
}
