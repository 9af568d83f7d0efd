import { textKey } from '../features/feature.js';
import type { Rule } from './ast.js';

/** `a/b/c` → `a/b/c`, `a/b`, `a`: every namespace a rule in `a/b/c` belongs to. */
export function namespacePrefixes(namespace: string): string[] {
  const parts = namespace.split('/');
  const out: string[] = [];
  for (let i = parts.length; i > 0; i--) out.push(parts.slice(0, i).join('/'));
  return out;
}

/**
 * The features a match of `rule` adds to its scope, as in capa: `match(name)`, and
 * `match(prefix)` for every prefix of its namespace.
 */
export function ruleMatchKeys(rule: Rule): string[] {
  const keys = [textKey('match', rule.name)];
  for (const ns of rule.meta.namespace ? namespacePrefixes(rule.meta.namespace) : []) {
    keys.push(textKey('match', ns));
  }
  return keys;
}
