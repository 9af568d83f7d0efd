/**
 * capa's result document (the `-j` output), built from matches: the schema capa 7+ writes and
 * capa Explorer Web reads — `meta` (sample, analysis, layout, feature counts) and, per matched
 * rule, its meta, source and `[address, evaluation tree]` pairs.
 */
import { subscopeTrees, type Matches, type Result } from '../engine/result.js';
import { kindName, type Feature, bytesToHex } from '../features/feature.js';
import { compareLocations, toAddress, type Location } from '../features/location.js';
import type { Rule, Statement } from '../rules/ast.js';
import type { RuleSet } from '../rules/rule-set.js';

/** The result-document version we follow (capa's schema since 7.0). */
export const RESULT_DOCUMENT_VERSION = '7.0.0';

export type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };

export interface SampleInfo {
  md5: string;
  sha1: string;
  sha256: string;
  path: string;
}

export interface StaticAnalysisInfo {
  format: string;
  arch: string;
  os: string;
  extractor: string;
  rules: string[];
  baseAddress: Location;
  /** Every analysed function with its basic blocks, by address. */
  functions: ReadonlyMap<number, readonly number[]>;
  featureCounts: { file: number; functions: ReadonlyMap<Location, number> };
  libraryFunctions: { address: Location; name: string }[];
}

export interface DocumentInput {
  version: string;
  timestamp: string;
  argv: string[];
  sample: SampleInfo;
  analysis: StaticAnalysisInfo;
  ruleSet: RuleSet;
  matches: Matches;
}

export function address(location: Location): Json {
  const a = toAddress(location);
  switch (a.type) {
    case 'no address':
      return { type: 'no address' };
    case 'absolute':
    case 'relative':
    case 'file':
      return { type: a.type, value: a.value };
    case 'dn token':
      return { type: 'dn token', value: a.token };
    case 'dn token offset':
      return { type: 'dn token offset', value: [a.token, a.offset] };
    case 'process':
      return { type: 'process', value: [a.ppid, a.pid] };
    case 'thread':
      return { type: 'thread', value: [a.ppid, a.pid, a.tid] };
    case 'call':
      return { type: 'call', value: [a.ppid, a.pid, a.tid, a.id] };
  }
}

function withDescription(
  obj: { [key: string]: Json },
  description?: string,
): { [key: string]: Json } {
  if (description !== undefined) obj.description = description;
  return obj;
}

/** A feature as capa's result document spells it: `{type: "api", api: "send"}`. */
export function featureJson(feature: Feature, description?: string): { [key: string]: Json } {
  switch (feature.kind) {
    case 'basic block':
      return withDescription({ type: 'basic block' }, description);
    case 'operand number':
      return withDescription(
        { type: 'operand number', index: feature.index, operand_number: feature.value },
        description,
      );
    case 'operand offset':
      return withDescription(
        { type: 'operand offset', index: feature.index, operand_offset: feature.value },
        description,
      );
    case 'property': {
      const obj: { [key: string]: Json } = { type: 'property', property: feature.value };
      if (feature.access) obj.access = feature.access;
      return withDescription(obj, description);
    }
    case 'bytes':
      return withDescription(
        { type: 'bytes', bytes: bytesToHex(feature.value).toUpperCase() },
        description,
      );
    case 'function-name':
      return withDescription({ type: 'function name', function_name: feature.value }, description);
    case 'class':
      return withDescription({ type: 'class', class: feature.value }, description);
    default:
      return withDescription(
        { type: kindName(feature), [feature.kind]: feature.value },
        description,
      );
  }
}

function nodeJson(statement: Statement): Json {
  const d = statement.description;
  switch (statement.type) {
    case 'and':
    case 'or':
    case 'not':
      return { type: 'statement', statement: withDescription({ type: statement.type }, d) };
    case 'some':
      return {
        type: 'statement',
        statement: withDescription(
          statement.count === 0 ? { type: 'optional' } : { type: 'some', count: statement.count },
          d,
        ),
      };
    case 'range':
      return {
        type: 'statement',
        statement: withDescription(
          {
            type: 'range',
            min: statement.min,
            // capa stores an open maximum as 1 << 63
            max: statement.max === Infinity ? 1n << 63n : statement.max,
            child: featureJson(statement.feature),
          },
          d,
        ),
      };
    case 'subscope':
      return {
        type: 'statement',
        statement: withDescription({ type: 'subscope', scope: statement.scope }, d),
      };
    case 'feature':
      if (statement.subscope) {
        return {
          type: 'statement',
          statement: withDescription({ type: 'subscope', scope: statement.subscope }, d),
        };
      }
      return { type: 'feature', feature: featureJson(statement.feature, d) };
    case 'substring':
      return {
        type: 'feature',
        feature: withDescription({ type: 'substring', substring: statement.value }, d),
      };
    case 'regex':
      return {
        type: 'feature',
        feature: withDescription(
          { type: 'regex', regex: `/${statement.source}/${statement.flags}` },
          d,
        ),
      };
    case 'bytes':
      return {
        type: 'feature',
        feature: withDescription(
          { type: 'bytes', bytes: bytesToHex(statement.value).toUpperCase() },
          d,
        ),
      };
    case 'os':
      return { type: 'feature', feature: withDescription({ type: 'os', os: statement.value }, d) };
  }
}

function sortedLocations(locations: Iterable<Location>): Json[] {
  return [...locations].sort(compareLocations).map(address);
}

/**
 * An evaluation tree. A subscope's `match:` of its derived rule is shown as the subscope
 * statement with the derived rule's own tree at that location beneath it, as capa shows it.
 */
function resultJson(result: Result, matches: Matches): Json {
  const children = (subscopeTrees(result, matches) ?? result.children).map((c) =>
    resultJson(c, matches),
  );
  const captures: { [key: string]: Json } = {};
  for (const [value, locations] of result.strings ?? [])
    captures[value] = sortedLocations(locations);
  return {
    success: result.success,
    node: nodeJson(result.statement),
    children,
    locations: sortedLocations(result.locations),
    captures,
  };
}

/** `A::B::C [ID]` with its three levels named as capa names them. */
function taggedJson(text: string, levels: readonly [string, string, string]): Json {
  const { parts, id } = splitTagged(text);
  const out: { [key: string]: Json } = { parts };
  levels.forEach((level, i) => (out[level] = parts[i] ?? ''));
  out.id = id;
  return out;
}

/** `Tactic::Technique::Sub-technique [T1234.001]` → capa's structured ATT&CK entry. */
export function attackJson(text: string): Json {
  return taggedJson(text, ['tactic', 'technique', 'subtechnique']);
}

/** `Objective::Behavior::Method [C0001.007]` → capa's structured MBC entry. */
export function mbcJson(text: string): Json {
  return taggedJson(text, ['objective', 'behavior', 'method']);
}

/** `A::B::C [ID]` → its parts and the bracketed ID (empty when absent). */
export function splitTagged(text: string): { parts: string[]; id: string } {
  const m = /^(.*?)\s*\[([^\]]+)\]\s*$/.exec(text);
  const body = m ? m[1]! : text;
  return { parts: body.split('::'), id: m ? m[2]! : '' };
}

function ruleMetaJson(rule: Rule): Json {
  const m = rule.meta;
  const maec: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(m.extra)) {
    if (k.startsWith('maec/')) maec[k.slice(5).replace(/-/g, '_')] = v as Json;
  }
  const scopes: { [key: string]: Json } = {};
  if (m.scopes.static) scopes.static = m.scopes.static;
  if (m.scopes.dynamic) scopes.dynamic = m.scopes.dynamic;
  const out: { [key: string]: Json } = {
    name: m.name,
    namespace: m.namespace ?? null,
    authors: m.authors,
    scopes,
    attack: m.attack.map(attackJson),
    mbc: m.mbc.map(mbcJson),
    references: m.references,
    examples: m.examples,
    description: m.description ?? '',
    lib: m.lib,
    is_subscope_rule: rule.parent !== undefined,
    maec,
  };
  return out;
}

export function buildResultDocument(input: DocumentInput): Json {
  const { analysis, ruleSet, matches } = input;
  const rules: { [name: string]: Json } = {};
  // capa's layout: the functions holding basic blocks that basic-block rules matched
  const functionOfBlock = new Map<number, number>();
  for (const [fn, blocks] of analysis.functions)
    for (const bb of blocks) functionOfBlock.set(bb, fn);
  const matchedBlocks = new Map<number, Set<number>>();
  for (const rule of ruleSet.rules) {
    const found = matches.get(rule.name);
    if (!found || found.length === 0) continue;
    if (rule.meta.scopes.static === 'basic block') {
      for (const [location] of found) {
        const fn = typeof location === 'number' ? functionOfBlock.get(location) : undefined;
        if (fn === undefined) continue;
        let set = matchedBlocks.get(fn);
        if (!set) matchedBlocks.set(fn, (set = new Set()));
        set.add(location as number);
      }
    }
    rules[rule.name] = {
      meta: ruleMetaJson(rule),
      source: rule.source,
      matches: [...found]
        .sort((a, b) => compareLocations(a[0], b[0]))
        .map(([location, tree]) => [address(location), resultJson(tree, matches)]),
    };
  }
  const layoutFunctions = [...matchedBlocks.keys()]
    .sort((a, b) => a - b)
    .map((fn) => ({
      address: address(fn),
      matched_basic_blocks: [...matchedBlocks.get(fn)!]
        .sort((a, b) => a - b)
        .map((bb) => ({ address: address(bb) })),
    }));
  return {
    meta: {
      timestamp: input.timestamp,
      version: input.version,
      argv: input.argv,
      sample: { ...input.sample },
      flavor: 'static',
      analysis: {
        format: analysis.format,
        arch: analysis.arch,
        os: analysis.os,
        extractor: analysis.extractor,
        rules: analysis.rules,
        base_address: address(analysis.baseAddress),
        layout: { functions: layoutFunctions },
        feature_counts: {
          file: analysis.featureCounts.file,
          functions: [...analysis.featureCounts.functions]
            .sort((a, b) => compareLocations(a[0], b[0]))
            .map(([l, count]) => ({ address: address(l), count })),
        },
        library_functions: analysis.libraryFunctions.map((f) => ({
          address: address(f.address),
          name: f.name,
        })),
      },
    },
    rules,
  };
}

/** JSON text, with bigints written as exact integers (JSON numbers have no size limit). */
export function stringifyJson(value: Json, indent = 0): string {
  const pad = (level: number) => (indent ? '\n' + ' '.repeat(indent * level) : '');
  const sep = indent ? ': ' : ':';
  const write = (v: Json, level: number): string => {
    if (v === null) return 'null';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[${v.map((x) => pad(level + 1) + write(x, level + 1)).join(',')}${pad(level)}]`;
    }
    const entries = Object.entries(v);
    if (entries.length === 0) return '{}';
    return `{${entries.map(([k, x]) => `${pad(level + 1)}${JSON.stringify(k)}${sep}${write(x, level + 1)}`).join(',')}${pad(level)}}`;
  };
  return write(value, 0);
}
