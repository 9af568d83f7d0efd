/** What every text report shares: the sample, the rules users see, how a capability is titled. */
import type { Matches, Result } from '../engine/result.js';
import type { Rule } from '../rules/ast.js';
import type { RuleSet } from '../rules/rule-set.js';

export interface ReportSample {
  md5: string;
  sha1: string;
  sha256: string;
  path: string;
  format: string;
  arch: string;
  os: string;
  /** Shown by the verbose reports when known. */
  baseAddress?: number;
  functionCount?: number;
  featureCount?: number;
  rules?: string[];
  version?: string;
  extractor?: string;
}

/** Rules users see: named (not derived from subscopes) and not library rules. */
export function reportedRules(ruleSet: RuleSet, matches: Matches): Rule[] {
  return ruleSet.rules
    .filter((r) => r.parent === undefined && !r.meta.lib && (matches.get(r.name)?.length ?? 0) > 0)
    .sort(
      (a, b) =>
        (a.meta.namespace ?? '').localeCompare(b.meta.namespace ?? '') ||
        a.name.localeCompare(b.name),
    );
}

/** The strings that regex and substring statements matched in a tree (the evidence shown). */
export function capturedStrings(result: Result, out = new Set<string>()): Set<string> {
  if (!result.success) return out;
  for (const value of result.strings?.keys() ?? []) out.add(value);
  for (const child of result.children) capturedStrings(child, out);
  return out;
}

/** A string on one line: control characters as escapes. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this replaces
  return s.replace(/[\x00-\x1f\x7f]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\r'
        ? '\\r'
        : c === '\t'
          ? '\\t'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** `name` or `name (N matches)`, as capa titles a capability. */
export function capabilityTitle(name: string, count: number): { name: string; suffix: string } {
  return { name, suffix: count > 1 ? ` (${count} matches)` : '' };
}
