import type { FeatureSet } from '../features/feature-set.js';
import type { Location } from '../features/location.js';
import type { Statement } from '../rules/ast.js';
import type { Result } from './result.js';

const NOWHERE: ReadonlySet<Location> = new Set();

/**
 * Evaluates a statement over a feature set with capa's semantics. With `shortCircuit`, logic
 * statements stop at the first child that decides them (for finding matches); without, every
 * child is evaluated (for the evaluation tree of a match).
 */
export function evaluate(node: Statement, features: FeatureSet, shortCircuit: boolean): Result {
  switch (node.type) {
    case 'feature': {
      const locations = features.get(node.key);
      return leaf(node, locations !== undefined, locations ?? NOWHERE);
    }
    case 'and': {
      const children: Result[] = [];
      let success = true;
      for (const child of node.children) {
        const r = evaluate(child, features, shortCircuit);
        children.push(r);
        if (!r.success) {
          success = false;
          if (shortCircuit) break;
        }
      }
      return { success, statement: node, children, locations: NOWHERE };
    }
    case 'or': {
      const children: Result[] = [];
      let success = false;
      for (const child of node.children) {
        const r = evaluate(child, features, shortCircuit);
        children.push(r);
        if (r.success) {
          success = true;
          if (shortCircuit) break;
        }
      }
      return { success, statement: node, children, locations: NOWHERE };
    }
    case 'not': {
      const child = evaluate(node.child, features, shortCircuit);
      return { success: !child.success, statement: node, children: [child], locations: NOWHERE };
    }
    case 'some': {
      const children: Result[] = [];
      let satisfied = 0;
      for (const child of node.children) {
        const r = evaluate(child, features, shortCircuit);
        children.push(r);
        if (r.success) satisfied++;
        if (shortCircuit && satisfied >= node.count) break;
      }
      return { success: satisfied >= node.count, statement: node, children, locations: NOWHERE };
    }
    case 'range': {
      const locations = features.get(node.key) ?? NOWHERE;
      const count = locations.size;
      return leaf(node, node.min <= count && count <= node.max, locations);
    }
    case 'substring':
    case 'regex': {
      const strings = new Map<string, ReadonlySet<Location>>();
      for (const [value, locations] of features.strings) {
        const hit = node.type === 'substring' ? value.includes(node.value) : node.regex.test(value);
        if (hit) {
          strings.set(value, locations);
          if (shortCircuit) break;
        }
      }
      const locations = new Set<Location>();
      for (const l of strings.values()) for (const x of l) locations.add(x);
      return { ...leaf(node, strings.size > 0, locations), strings };
    }
    case 'bytes': {
      // starts with the pattern: as hex text, both spelled the same way
      const pattern = node.key.slice(6, -1);
      for (const { hex, locations } of features.bytes) {
        if (hex.startsWith(pattern)) return leaf(node, true, locations);
      }
      return leaf(node, false, NOWHERE);
    }
    case 'os': {
      // `any` on either side matches every os
      for (const key of node.value === 'any' ? osKeys(features) : [node.key, 'os(any)']) {
        const locations = features.get(key);
        if (locations) return leaf(node, true, locations);
      }
      return leaf(node, false, NOWHERE);
    }
    case 'subscope':
      throw new Error('subscope statements are evaluated through their derived rules');
  }
}

function leaf(node: Statement, success: boolean, locations: ReadonlySet<Location>): Result {
  return { success, statement: node, children: [], locations: success ? locations : NOWHERE };
}

function* osKeys(features: FeatureSet): Generator<string> {
  for (const key of features.keys()) if (key.startsWith('os(')) yield key;
}
