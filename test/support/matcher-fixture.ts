/**
 * Reads capa's data-driven matcher tests (`capa-fixtures/matcher/**.yml`): a rule fragment,
 * a feature listing in a small DSL, and the matches expected.
 */
import { parse, stringify } from 'yaml';
import { PYYAML_OPTIONS } from '../../src/rules/yaml-schema.js';
import { parseFeature, featureKey } from '../../src/features/feature.js';
import { FeatureSet } from '../../src/features/feature-set.js';
import { dynamicLocation, parseLocation, type Location } from '../../src/features/location.js';
import type {
  BlockFeatures,
  DynamicFeatures,
  FunctionFeatures,
  ProcessFeatures,
  StaticFeatures,
  ThreadFeatures,
} from '../../src/features/feature-tree.js';
import type { RuleText } from '../../src/rules/load.js';

export interface FixtureCase {
  name: string;
  description?: string;
  flavor: 'static' | 'dynamic';
  rules: RuleText[];
  ruleNames: string[];
  listing: string[];
  spanSize?: number;
  /** Rule name → expected locations (bare call ids resolved by the listing). */
  expected: Map<string, (string | number)[]>;
}

interface RawCase {
  name: string;
  description?: string;
  rules: Record<string, unknown>[];
  features: string | string[];
  expect?: { matches?: Record<string, (string | number)[]> | null };
  options?: { 'span size'?: number | bigint };
  'base address'?: unknown;
}

export function readFixtureFile(
  text: string,
  flavor: 'static' | 'dynamic',
  file: string,
): FixtureCase[] {
  const raw = parse(text, PYYAML_OPTIONS) as RawCase[];
  return raw.map((c, i) => {
    const rules = c.rules.map((r, j) => {
      const { name, namespace, scopes, features, ...rest } = r as {
        name: string;
        namespace?: string;
        scopes?: { static?: string; dynamic?: string };
        features: unknown;
      };
      const meta: Record<string, unknown> = { name };
      if (namespace !== undefined) meta.namespace = namespace;
      meta.scopes = {
        static: scopes?.static ?? 'unsupported',
        dynamic: scopes?.dynamic ?? 'unsupported',
      };
      for (const [k, v] of Object.entries(rest)) if (k !== 'description') meta[k] = v;
      if ('description' in rest) meta.description = rest.description;
      return {
        path: `${file}#${i}/${j}`,
        text: stringify({ rule: { meta, features } }, PYYAML_OPTIONS),
      };
    });
    const listing = (Array.isArray(c.features) ? c.features : c.features.split('\n'))
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const expected = new Map<string, (string | number)[]>();
    for (const [name, locs] of Object.entries(c.expect?.matches ?? {})) {
      expected.set(
        name,
        (locs ?? []).map((l) => (typeof l === 'bigint' ? Number(l) : l)),
      );
    }
    const span = c.options?.['span size'];
    return {
      name: c.name,
      description: c.description,
      flavor,
      rules,
      ruleNames: c.rules.map((r) => String(r.name)),
      listing,
      spanSize: span === undefined ? undefined : Number(span),
      expected,
    };
  });
}

/** Splits `PREFIX: rest` and, for feature lines, `ADDRESS: FEATURE [-> LOCATION]`. */
function splitLine(line: string): { prefix: string; rest: string } {
  const i = line.indexOf(':');
  if (i < 0) throw new SyntaxError(`invalid feature line: ${line}`);
  return { prefix: line.slice(0, i).trim(), rest: line.slice(i + 1).trim() };
}

function splitFeature(rest: string): { address: string; feature?: string } {
  const i = rest.indexOf(': ');
  if (i < 0) return { address: rest.trim() };
  return { address: rest.slice(0, i).trim(), feature: rest.slice(i + 2).trim() };
}

/** `feature -> location` or `feature`, with the default location. */
function featureAt(text: string, fallback: Location): { key: string; location: Location } {
  const arrow = text.lastIndexOf(' -> ');
  if (arrow >= 0) {
    return {
      key: featureKey(parseFeature(text.slice(0, arrow))),
      location: parseLocation(text.slice(arrow + 4)),
    };
  }
  return { key: featureKey(parseFeature(text)), location: fallback };
}

export function staticListing(lines: string[]): StaticFeatures {
  const global = new FeatureSet();
  const file = new FeatureSet();
  const functions: (FunctionFeatures & {
    blocks: (BlockFeatures & { instructions: { address: Location; features: FeatureSet }[] })[];
  })[] = [];
  for (const line of lines) {
    const { prefix, rest } = splitLine(line);
    const { address, feature } = splitFeature(rest);
    const location = parseLocation(address);
    if (prefix === 'global' || prefix === 'file') {
      if (!feature) throw new SyntaxError(`missing feature: ${line}`);
      const f = featureAt(feature, location);
      (prefix === 'global' ? global : file).add(f.key, f.location);
      continue;
    }
    if (prefix === 'func') {
      let fn = functions.find((x) => x.address === location);
      if (!fn) functions.push((fn = { address: location, features: new FeatureSet(), blocks: [] }));
      if (feature) {
        const f = featureAt(feature, location);
        fn.features.add(f.key, f.location);
      }
      continue;
    }
    const fn = functions.at(-1);
    if (!fn) throw new SyntaxError(`${prefix} line outside a function: ${line}`);
    if (prefix === 'bb') {
      let bb = fn.blocks.find((x) => x.address === location);
      if (!bb)
        fn.blocks.push((bb = { address: location, features: new FeatureSet(), instructions: [] }));
      if (feature) {
        const f = featureAt(feature, location);
        bb.features.add(f.key, f.location);
      }
      continue;
    }
    if (prefix === 'insn') {
      const bb = fn.blocks.at(-1);
      if (!bb) throw new SyntaxError(`insn line outside a basic block: ${line}`);
      let insn = bb.instructions.find((x) => x.address === location);
      if (!insn) bb.instructions.push((insn = { address: location, features: new FeatureSet() }));
      if (!feature) throw new SyntaxError(`missing feature: ${line}`);
      const f = featureAt(feature, location);
      insn.features.add(f.key, f.location);
      continue;
    }
    throw new SyntaxError(`unknown static line prefix: ${line}`);
  }
  return { global, file, functions };
}

export interface DynamicListing extends DynamicFeatures {
  /** Call id → its location, for expectations written as bare call ids. */
  calls: Map<number, Location>;
}

export function dynamicListing(lines: string[]): DynamicListing {
  const global = new FeatureSet();
  const file = new FeatureSet();
  const processes: (ProcessFeatures & {
    threads: (ThreadFeatures & { calls: { address: Location; features: FeatureSet }[] })[];
    pid: number;
  })[] = [];
  const calls = new Map<number, Location>();
  for (const line of lines) {
    const { prefix, rest } = splitLine(line);
    if (prefix === 'global' || prefix === 'file') {
      const { address, feature } = splitFeature(rest);
      if (!feature) throw new SyntaxError(`missing feature: ${line}`);
      const f = featureAt(feature, parseLocation(address));
      (prefix === 'global' ? global : file).add(f.key, f.location);
    } else if (prefix === 'proc') {
      const m = /\(\s*(?:ppid=(\d+)\s*,\s*)?pid=(\d+)\s*\)\s*$/.exec(rest);
      if (!m) throw new SyntaxError(`invalid process line: ${line}`);
      const pid = Number(m[2]);
      const ppid = m[1] === undefined ? undefined : Number(m[1]);
      processes.push({
        address: dynamicLocation({ ppid, pid }),
        pid,
        features: new FeatureSet(),
        threads: [],
      });
    } else if (prefix === 'thread') {
      const proc = processes.at(-1);
      if (!proc) throw new SyntaxError(`thread outside a process: ${line}`);
      const tid = Number(rest);
      proc.threads.push({
        address: dynamicLocation({ pid: proc.pid, tid }),
        features: new FeatureSet(),
        calls: [],
      });
    } else if (prefix === 'call') {
      const proc = processes.at(-1);
      const thread = proc?.threads.at(-1);
      if (!proc || !thread) throw new SyntaxError(`call outside a thread: ${line}`);
      const { address, feature } = splitFeature(rest);
      const id = Number(address);
      const tid = Number(/tid:(\d+)/.exec(String(thread.address))![1]);
      const location = dynamicLocation({ pid: proc.pid, tid, call: id });
      let call = thread.calls.find((c) => c.address === location);
      if (!call) thread.calls.push((call = { address: location, features: new FeatureSet() }));
      calls.set(id, location);
      if (!feature) throw new SyntaxError(`missing feature: ${line}`);
      const f = featureAt(feature, location);
      call.features.add(f.key, f.location);
    } else {
      throw new SyntaxError(`unknown dynamic line prefix: ${line}`);
    }
  }
  return { global, file, processes, calls };
}
