import type { Matches, Result } from '../engine/result.js';
import type { RuleSet } from '../rules/rule-set.js';
import { formatLocation, NO_ADDRESS } from '../features/location.js';

export interface ReportSample {
  md5: string;
  sha1: string;
  sha256: string;
  path: string;
  format: string;
  arch: string;
  os: string;
}

/** Rules users see: named (not derived from subscopes) and not library rules. */
export function reportedRules(ruleSet: RuleSet, matches: Matches) {
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

const MAX_SHOWN = 80;

/** A string on one line: control characters as escapes. */
function printable(s: string): string {
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

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/**
 * The default report: the sample, then each capability with its namespace and where it
 * matched (`verbose`: every address).
 */
export function textReport(
  sample: ReportSample,
  ruleSet: RuleSet,
  matches: Matches,
  verbose = false,
): string {
  const out: string[] = [];
  out.push(
    ...table(
      ['', ''],
      [
        ['md5', sample.md5],
        ['sha1', sample.sha1],
        ['sha256', sample.sha256],
        ['format', sample.format],
        ['arch', sample.arch],
        ['os', sample.os],
        ['path', sample.path],
      ],
    ).slice(2),
  );
  out.push('');
  const rules = reportedRules(ruleSet, matches);
  if (rules.length === 0) {
    out.push('no capabilities found');
    return out.join('\n');
  }
  const rows = rules.map((r) => {
    const found = matches.get(r.name)!;
    const at = found.map(([l]) => l);
    const where =
      at.length === 1 && at[0] === NO_ADDRESS
        ? 'file'
        : verbose
          ? at.map(formatLocation).join(', ')
          : `${at.length} match${at.length === 1 ? '' : 'es'}`;
    const strings = new Set<string>();
    for (const [, tree] of found) capturedStrings(tree, strings);
    let shown = [...strings].map(printable).join(', ');
    if (shown.length > MAX_SHOWN) shown = `${shown.slice(0, MAX_SHOWN - 3)}...`;
    return [r.name, r.meta.namespace ?? '', where, shown];
  });
  out.push(...table(['CAPABILITY', 'NAMESPACE', 'MATCHES', 'STRINGS'], rows));
  return out.join('\n');
}
