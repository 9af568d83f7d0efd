/**
 * capa's verbose (`-v`) and very verbose (`-vv`) reports: the sample and analysis, then one
 * block per capability — its meta, and each place it matched (`function @ 0x401000`); very
 * verbose adds the evaluation tree of every match.
 */
import type { Matches } from '../engine/result.js';
import { compareLocations, formatLocation, NO_ADDRESS } from '../features/location.js';
import type { Rule } from '../rules/ast.js';
import type { RuleSet } from '../rules/rule-set.js';
import { renderTree } from './match-tree.js';
import { splitTagged } from './result-document.js';
import type { Style } from './style.js';
import { plainTable, type Row } from './table.js';
import { capabilityTitle, reportedRules, type ReportSample } from './report-common.js';

export interface VerboseOptions {
  vverbose: boolean;
  style: Style;
  functionOfBlock?: ReadonlyMap<number, number>;
}

function sampleMeta(sample: ReportSample): Row[] {
  const rows: Row[] = [
    ['md5', sample.md5],
    ['sha1', sample.sha1],
    ['sha256', sample.sha256],
    ['path', sample.path],
  ];
  if (sample.version !== undefined) rows.push(['capa-ts version', sample.version]);
  rows.push(['os', sample.os], ['format', sample.format], ['arch', sample.arch]);
  if (sample.extractor !== undefined) rows.push(['extractor', sample.extractor]);
  if (sample.baseAddress !== undefined)
    rows.push(['base address', formatLocation(sample.baseAddress)]);
  if (sample.rules !== undefined) rows.push(['rules', sample.rules.join('\n')]);
  if (sample.functionCount !== undefined)
    rows.push(['function count', String(sample.functionCount)]);
  if (sample.featureCount !== undefined)
    rows.push(['total feature count', String(sample.featureCount)]);
  return rows;
}

/** `Tactic::Technique [T1234]` as capa prints one ATT&CK or MBC entry. */
function tagged(text: string): string {
  const { parts, id } = splitTagged(text);
  return id ? `${parts.join('::')} [${id}]` : parts.join('::');
}

export function ruleScope(rule: Rule): string {
  return rule.meta.scopes.static ?? rule.meta.scopes.dynamic ?? 'file';
}

function ruleMeta(rule: Rule, vverbose: boolean, style: Style): Row[] {
  const m = rule.meta;
  const rows: Row[] = [];
  const add = (key: string, value: string | undefined) => {
    if (value) rows.push([key, value]);
  };
  add('namespace', m.namespace);
  if (vverbose) add('author', m.authors.join(', '));
  add('description', m.description?.trim().replace(/\s*\n\s*/g, ' '));
  add('scope', ruleScope(rule));
  if (m.attack.length > 0)
    rows.push(['att&ck', { text: m.attack.map(tagged).join(', '), style: style.value }]);
  if (m.mbc.length > 0)
    rows.push(['mbc', { text: m.mbc.map(tagged).join(', '), style: style.value }]);
  if (vverbose) add('references', m.references.join(', '));
  return rows;
}

export function verboseReport(
  sample: ReportSample,
  ruleSet: RuleSet,
  matches: Matches,
  options: VerboseOptions,
): string {
  const { style, vverbose } = options;
  const out: string[] = [...plainTable(sampleMeta(sample)), ''];
  const rules = reportedRules(ruleSet, matches);
  if (rules.length === 0) {
    out.push(style.heading('no capabilities found'));
    return out.join('\n');
  }
  for (const rule of rules) {
    const found = [...matches.get(rule.name)!].sort((a, b) => compareLocations(a[0], b[0]));
    const { name, suffix } = capabilityTitle(rule.name, found.length);
    out.push(style.rule(name) + suffix);
    out.push(...plainTable(ruleMeta(rule, vverbose, style)));
    const scope = ruleScope(rule);
    for (const [location, tree] of found) {
      const fileScope = location === NO_ADDRESS;
      if (!fileScope) {
        let line = `${scope} @ ${style.dim(formatLocation(location))}`;
        const fn =
          typeof location === 'number' ? options.functionOfBlock?.get(location) : undefined;
        if (scope === 'basic block' && fn !== undefined)
          line += ` in function ${style.dim(formatLocation(fn))}`;
        out.push(line);
      }
      if (vverbose) out.push(...renderTree(tree, { matches, style }, fileScope ? 0 : 1));
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}
