import type { Rule, Statement } from './ast.js';
import { ruleMatchKeys } from './namespaces.js';

/** Index keys standing for "some `string` feature" and "some `bytes` feature". */
export const ANY_STRING = '#string';
export const ANY_BYTES = '#bytes';

/**
 * The rules of one scope, in dependency order, indexed by the features they need.
 *
 * For each rule we compute a set of feature keys at least one of which must be present for
 * the rule to match (or none, when it can match without any feature, e.g. through `not`).
 * Given the keys of a feature set, `candidates` yields only the rules that might match.
 */
export class RuleIndex {
  readonly rules: readonly Rule[];
  /** Positions (into `rules`) of rules that must always be evaluated. */
  readonly unconditional: readonly number[];
  /** Feature key → positions of rules that need it. */
  readonly byKey: ReadonlyMap<string, readonly number[]>;
  /** By position: the features a match of the rule adds (`match(name)`, its namespaces). */
  readonly matchKeys: readonly (readonly string[])[];

  constructor(rules: readonly Rule[]) {
    this.rules = rules;
    const unconditional: number[] = [];
    const byKey = new Map<string, number[]>();
    rules.forEach((rule, position) => {
      const keys = requiredKeys(rule.statement);
      if (keys === null) {
        unconditional.push(position);
        return;
      }
      for (const key of keys) {
        let list = byKey.get(key);
        if (!list) byKey.set(key, (list = []));
        list.push(position);
      }
    });
    this.unconditional = unconditional;
    this.byKey = byKey;
    this.matchKeys = rules.map(ruleMatchKeys);
  }
}

/**
 * Keys of which at least one must be present for `node` to be true; null when the node can
 * be true with no feature present.
 */
export function requiredKeys(node: Statement): Set<string> | null {
  switch (node.type) {
    case 'feature':
      return new Set([node.key]);
    case 'range':
      return node.min === 0 ? null : new Set([node.key]);
    case 'substring':
    case 'regex':
      return new Set([ANY_STRING]);
    case 'bytes':
      return new Set([ANY_BYTES]);
    case 'os':
    case 'not':
      return null;
    case 'some':
      return node.count === 0 ? null : union(node.children);
    case 'or':
      return union(node.children);
    case 'and': {
      let best: Set<string> | null = null;
      for (const child of node.children) {
        const keys = requiredKeys(child);
        if (keys !== null && (best === null || cost(keys) < cost(best))) best = keys;
      }
      return best;
    }
    case 'subscope':
      return requiredKeys(node.child);
  }
}

function union(children: Statement[]): Set<string> | null {
  const out = new Set<string>();
  for (const child of children) {
    const keys = requiredKeys(child);
    if (keys === null) return null;
    for (const k of keys) out.add(k);
  }
  return out;
}

/**
 * How often a key is expected in a scope, roughly: the index prefers the rarest requirement.
 * APIs, strings and matches are rare; mnemonics, small numbers and common characteristics are
 * everywhere; `arch` and `format` are in every scope.
 */
function keyCost(key: string): number {
  if (key === ANY_STRING || key === ANY_BYTES) return 100;
  if (key.startsWith('arch(') || key.startsWith('format(') || key === 'basic block') return 1000;
  if (key.startsWith('mnemonic(')) return 50;
  if (key.startsWith('characteristic(')) return 20;
  const n = /^(?:number|offset|operand\[\d\]\.(?:number|offset))\((-?)0x([0-9a-f]+)\)$/.exec(key);
  if (n) return n[2]!.length <= 2 ? 30 : 2;
  return 1;
}

function cost(keys: Set<string>): number {
  let c = 0;
  for (const k of keys) c += keyCost(k);
  return c;
}
