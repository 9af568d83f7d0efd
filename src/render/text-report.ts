import type { Matches } from '../engine/result.js';
import type { Rule } from '../rules/ast.js';
import type { RuleSet } from '../rules/rule-set.js';
import { splitTagged } from './result-document.js';
import { PLAIN, type Style } from './style.js';
import { boxTable, type Cell, type Row } from './table.js';
import { verboseReport } from './verbose-report.js';
import {
  capabilityTitle,
  capturedStrings,
  printable,
  reportedRules,
  type ReportSample,
} from './report-common.js';

export { capabilityTitle, capturedStrings, printable, reportedRules, type ReportSample };

const MAX_SHOWN = 80;

export interface ReportOptions {
  /** 0: tables; 1 (`-v`): every match address; 2 (`-vv`): every evaluation tree. */
  verbosity?: 0 | 1 | 2;
  style?: Style;
  /** Basic block → its function, for `basic block @ X in function Y`. */
  functionOfBlock?: ReadonlyMap<number, number>;
}

/**
 * Groups `Head::Rest::More [ID]` entries by their head (ATT&CK tactic, MBC objective):
 * head → sorted `Rest::More [ID]`. Heads are sorted; capa prints them in capitals.
 */
export function groupTagged(entries: Iterable<string>): Map<string, string[]> {
  const groups = new Map<string, Set<string>>();
  for (const text of entries) {
    const { parts, id } = splitTagged(text);
    const head = parts[0]?.trim() ?? '';
    if (!head) continue;
    const rest = parts.slice(1).join('::');
    const shown = [rest, id ? `[${id}]` : ''].filter(Boolean).join(' ');
    let set = groups.get(head);
    if (!set) groups.set(head, (set = new Set()));
    if (shown) set.add(shown);
  }
  return new Map(
    [...groups.keys()].sort().map((head) => [head, [...groups.get(head)!].sort()] as const),
  );
}

function taggedTable(
  headers: [string, string],
  rules: Rule[],
  pick: (r: Rule) => string[],
  style: Style,
): string[] {
  const groups = groupTagged(rules.flatMap(pick));
  if (groups.size === 0) return [];
  const rows: Row[] = [...groups].map(([head, items]) => [
    head.toUpperCase(),
    { text: items.join('\n'), style: style.value },
  ]);
  return [
    ...boxTable(
      headers.map((h) => ({ text: h, style: style.heading })),
      rows,
    ),
    '',
  ];
}

function sampleRows(sample: ReportSample): [string, string][] {
  return [
    ['md5', sample.md5],
    ['sha1', sample.sha1],
    ['sha256', sample.sha256],
    ['format', sample.format],
    ['arch', sample.arch],
    ['os', sample.os],
    ['path', sample.path],
  ];
}

/**
 * The default report, as capa's: the sample, the ATT&CK tactics and techniques, the MBC
 * objectives and behaviours, then each capability with its namespace (and the strings its
 * regex and substring features matched). Library rules and subscope rules are hidden.
 * With `verbosity` 1 or 2, capa's verbose and very verbose layouts instead.
 */
export function textReport(
  sample: ReportSample,
  ruleSet: RuleSet,
  matches: Matches,
  options: ReportOptions = {},
): string {
  const style = options.style ?? PLAIN;
  if (options.verbosity) {
    return verboseReport(sample, ruleSet, matches, {
      vverbose: options.verbosity >= 2,
      style,
      functionOfBlock: options.functionOfBlock,
    });
  }
  const out: string[] = [];
  out.push(...boxTable(undefined, sampleRows(sample)), '');
  const rules = reportedRules(ruleSet, matches);
  if (rules.length === 0) {
    out.push(style.heading('no capabilities found'));
    return out.join('\n');
  }
  out.push(
    ...taggedTable(['ATT&CK Tactic', 'ATT&CK Technique'], rules, (r) => r.meta.attack, style),
  );
  out.push(...taggedTable(['MBC Objective', 'MBC Behavior'], rules, (r) => r.meta.mbc, style));

  const rows = rules.map((r) => {
    const found = matches.get(r.name)!;
    const strings = new Set<string>();
    for (const [, tree] of found) capturedStrings(tree, strings);
    let shown = [...strings].map(printable).join(', ');
    if (shown.length > MAX_SHOWN) shown = `${shown.slice(0, MAX_SHOWN - 3)}...`;
    const { name, suffix } = capabilityTitle(r.name, found.length);
    const row: Cell[] = [
      {
        text: name + suffix,
        style: (t) => style.rule(t.slice(0, name.length)) + t.slice(name.length),
      },
      { text: r.meta.namespace ?? '' },
      { text: shown, style: style.value },
    ];
    return row;
  });
  const withStrings = rows.some((r) => r[2]!.text !== '');
  const headers = ['Capability', 'Namespace', ...(withStrings ? ['Strings'] : [])].map((h) => ({
    text: h,
    style: style.heading,
  }));
  out.push(
    ...boxTable(
      headers,
      rows.map((r) => (withStrings ? r : r.slice(0, 2))),
    ),
  );
  return out.join('\n');
}
