/**
 * `npm run bench`: how long capa-ts takes to load the capa-rules corpus, and to match it.
 *
 * - rules: read the files, then parse + validate + build the rule set, then build the
 *   per-scope indexes — each the median of several runs;
 * - matching: all rules over one synthetic function of 1,000 features (drawn from the
 *   features the rules use, plus noise), with the index, and for comparison evaluating every
 *   function-scope rule without it;
 * - samples (bench/samples.txt): each stage of the pipeline per file — parse, decode and
 *   analysis, features, matching — and the total as a multiple of the decode floor (decoding
 *   every code byte once with the same decoder), next to capa 9.4's time where known;
 * - whole command runs over every native PE sample: one process per file versus one batch
 *   run, cold and warm rule cache (bench/batch.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCapabilities } from '../src/capabilities/find-capabilities.js';
import { parsePe } from '../src/format/pe/index.js';
import { batchBench } from './batch.js';
import { decodeFloor } from './decode-floor.js';
import { ScopeMatcher } from '../src/engine/scope-matcher.js';
import { FeatureSet } from '../src/features/feature-set.js';
import type { Statement } from '../src/rules/ast.js';
import { loadRules } from '../src/rules/load.js';
import type { RuleSet } from '../src/rules/rule-set.js';
import { STATIC_SCOPES, DYNAMIC_SCOPES } from '../src/rules/scopes.js';
import { readRuleFiles } from '../src/node/rule-files.js';

const SHARED = process.env.CAPA_TS_SHARED ?? join(process.cwd(), '..', 'shared');
const RULES = join(SHARED, 'capa-rules');
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
}

function ms(x: number): string {
  return `${x.toFixed(1)} ms`;
}

function exactKeys(node: Statement, out: Set<string>): void {
  if ('children' in node) for (const c of node.children) exactKeys(c, out);
  if ('child' in node) exactKeys(node.child, out);
  if (node.type === 'feature' && node.feature.kind !== 'match') out.add(node.key);
  if (node.type === 'range') out.add(node.key);
}

/**
 * A function of exactly 1,000 distinct features: `relevant` of them drawn evenly from the
 * exact features the corpus's function, basic-block and instruction rules use, the rest noise.
 */
function syntheticFunction(ruleSet: RuleSet, relevant: number): FeatureSet {
  const wanted = new Set<string>();
  for (const scope of ['function', 'basic block', 'instruction'] as const) {
    for (const rule of ruleSet.index(scope).rules) exactKeys(rule.statement, wanted);
  }
  const pool = [...wanted].filter((k) => !/^(os|arch|format)\(/.test(k));
  const fs = new FeatureSet();
  let address = 0x401000;
  fs.add('os(windows)', 'no address');
  fs.add('arch(i386)', 'no address');
  fs.add('format(pe)', 'no address');
  fs.add('string(\\\\.\\mailslot\\LogCC)', (address += 3));
  for (let i = 0; fs.size < 4 + relevant && i < pool.length; i++) {
    fs.add(pool[Math.floor((i * pool.length) / relevant) % pool.length]!, (address += 3));
  }
  for (let i = 0; fs.size < 1000; i++)
    fs.add(`number(0x${(0x10000 + i * 7919).toString(16)})`, (address += 3));
  return fs;
}

/** Median time to match `fn` with the index, and with every rule evaluated regardless. */
function timeMatching(
  rs: RuleSet,
  fn: FeatureSet,
): { indexed: number; brute: number; found: number } {
  const index = rs.index('function');
  // the same rules with no index: every rule evaluated every time
  const everything: typeof index = {
    ...index,
    unconditional: index.rules.map((_, i) => i),
    byKey: new Map(),
  };
  const matcher = new ScopeMatcher(index);
  const bruteMatcher = new ScopeMatcher(everything);
  const indexed: number[] = [];
  const brute: number[] = [];
  let found = 0;
  for (let run = 0; run < 50; run++) {
    const [m, t] = time(() => matcher.match(fn.clone(), 0x401000));
    found = m.size;
    indexed.push(t);
    const [mb, tb] = time(() => bruteMatcher.match(fn.clone(), 0x401000));
    if (mb.size !== m.size) throw new Error(`index changed the result: ${m.size} vs ${mb.size}`);
    brute.push(tb);
  }
  return { indexed: median(indexed), brute: median(brute), found };
}

function samples(rs: RuleSet): void {
  const list = join(fileURLToPath(import.meta.url), '../../../bench/samples.txt');
  const dir = join(SHARED, 'capa-testfiles');
  console.log(`\nsamples: full capa-rules, one run each after a warm-up (times in ms)`);
  const header = [
    'sample',
    'KB',
    'parse',
    'analysis',
    'features',
    'matching',
    'total',
    'floor',
    'x floor',
    'capa 9.4',
  ];
  const rows: string[][] = [];
  findCapabilities(
    new Uint8Array(readFileSync(join(dir, 'af13e7583ed1b27c4ae219e344a37e2b.exe_'))),
    rs,
  ); // warm-up
  for (const line of readFileSync(list, 'utf8').split('\n')) {
    const m = /^([^#].*?)(?:\s+([\d.]+))?\s*$/.exec(line);
    if (!m || !existsSync(join(dir, m[1]!))) continue;
    const bytes = new Uint8Array(readFileSync(join(dir, m[1]!)));
    const r = findCapabilities(bytes, rs);
    const t = r.times;
    const total = t.parse + t.analysis + t.features + t.matching;
    const floor = decodeFloor(parsePe(bytes)).ms;
    const capa = m[2] ? `${m[2]} s (${Math.round((Number(m[2]) * 1000) / total)}x)` : '';
    rows.push([
      m[1]!.length > 28 ? m[1]!.slice(0, 25) + '...' : m[1]!,
      String(Math.round(bytes.length / 1024)),
      ...[t.parse, t.analysis, t.features, t.matching, total, floor].map((x) => x.toFixed(0)),
      (total / floor).toFixed(1),
      capa,
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows])
    console.log(
      '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
    );
}

function main(): void {
  console.log(`capa-ts rule benchmark — ${RULES}`);
  const reads: number[] = [];
  const loads: number[] = [];
  const indexes: number[] = [];
  let ruleSet: RuleSet | undefined;
  let files = 0;
  for (let run = 0; run < RUNS; run++) {
    const [texts, tRead] = time(() => readRuleFiles([RULES]));
    const [build, tLoad] = time(() => loadRules(texts));
    if (build.errors.length > 0)
      throw new Error(`rules failed to load: ${build.errors[0]!.message}`);
    const [, tIndex] = time(() => {
      for (const scope of new Set([...STATIC_SCOPES, ...DYNAMIC_SCOPES]))
        build.ruleSet.index(scope);
    });
    reads.push(tRead);
    loads.push(tLoad);
    indexes.push(tIndex);
    ruleSet = build.ruleSet;
    files = texts.length;
  }
  const rs = ruleSet!;
  const total = median(reads) + median(loads) + median(indexes);
  console.log(
    `\nrules: ${files} files, ${rs.namedRules.length} rules (+${rs.rules.length - rs.namedRules.length} derived from subscopes); median of ${RUNS} runs`,
  );
  console.log(`  read files              ${ms(median(reads))}`);
  console.log(`  parse + validate + set  ${ms(median(loads))}`);
  console.log(`  index (all scopes)      ${ms(median(indexes))}`);
  console.log(
    `  total                   ${ms(total)}   (capa 9.4 without its cache: 6,600 ms → ${(6600 / total).toFixed(1)}x faster)`,
  );

  console.log(
    `\nmatching: all ${rs.index('function').rules.length} function-scope rules over one function of 1,000 features; median of 50 runs`,
  );
  console.log('  features the rules use   with index    every rule    rules matched');
  for (const relevant of [50, 600]) {
    const r = timeMatching(rs, syntheticFunction(rs, relevant));
    console.log(
      `  ${String(relevant).padStart(4)} of 1,000          ${ms(r.indexed).padStart(10)}    ${ms(r.brute).padStart(10)}    ${String(r.found).padStart(5)}`,
    );
  }
  samples(rs);
  batchBench(SHARED);
}

main();
