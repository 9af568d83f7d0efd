import type { Rule, Statement } from './ast.js';
import { compilePythonRegex } from './regex.js';

/**
 * Parsed rules as plain JSON and back, for caching: bigints, byte strings and compiled
 * regexes are written as tagged values and revived exactly.
 */
const BIGINT = '$bigint';
const BYTES = '$bytes';

export function rulesToJson(rules: readonly Rule[]): string {
  return JSON.stringify(rules, (key, value: unknown) => {
    if (typeof value === 'bigint') return { [BIGINT]: value.toString() };
    if (value instanceof Uint8Array) return { [BYTES]: Array.from(value) };
    if (key === 'regex' && value instanceof RegExp) return undefined; // recompiled from source
    if (value === Infinity) return 'Infinity';
    return value;
  });
}

export function rulesFromJson(text: string): Rule[] {
  const rules = JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === 'object') {
      const v = value as Record<string, unknown>;
      if (BIGINT in v) return BigInt(v[BIGINT] as string);
      if (BYTES in v) return Uint8Array.from(v[BYTES] as number[]);
    }
    return value;
  }) as Rule[];
  for (const rule of rules) revive(rule.statement);
  return rules;
}

function revive(node: Statement): void {
  switch (node.type) {
    case 'regex':
      node.regex = compilePythonRegex(node.source, node.flags === 'i');
      return;
    case 'range':
      if ((node.max as unknown) === 'Infinity') node.max = Infinity;
      return;
    case 'and':
    case 'or':
    case 'some':
      for (const c of node.children) revive(c);
      return;
    case 'not':
    case 'subscope':
      revive(node.child);
      return;
    default:
      return;
  }
}
