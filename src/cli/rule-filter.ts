/**
 * `-t/--tag`: keep the rules whose name, namespace or any meta value contains the tag —
 * before matching, as capa does — together with every rule they depend on. Dependencies are
 * matched (a kept rule needs them) but only the tagged rules are reported.
 */
import type { Matches } from '../engine/result.js';
import type { Rule } from '../rules/ast.js';
import { buildRuleSet, type RuleSet } from '../rules/rule-set.js';

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  return [];
}

/** Whether the tag occurs (case-sensitively, as in capa) in the rule's name or meta values. */
export function ruleHasTag(rule: Rule, tag: string): boolean {
  const m = rule.meta;
  const values = [
    rule.name,
    m.namespace,
    m.description,
    ...m.authors,
    ...m.attack,
    ...m.mbc,
    ...m.references,
    ...m.examples,
    ...Object.values(m.extra).flatMap(strings),
  ];
  return values.some((v) => v !== undefined && v.includes(tag));
}

export interface TaggedRules {
  ruleSet: RuleSet;
  /** The named rules that carry the tag: the ones to report. */
  tagged: ReadonlySet<string>;
}

export function filterRulesByTag(ruleSet: RuleSet, tag: string): TaggedRules {
  const tagged = new Set(
    ruleSet.rules.filter((r) => r.parent === undefined && ruleHasTag(r, tag)).map((r) => r.name),
  );
  const kept = new Set<string>();
  for (const rule of ruleSet.rules) {
    if (!tagged.has(rule.parent ?? rule.name)) continue;
    kept.add(rule.name);
    for (const dep of ruleSet.dependenciesOf(rule.name)) kept.add(dep);
  }
  // the subscope rules of a kept dependency come with it
  for (const rule of ruleSet.rules) {
    if (rule.parent !== undefined && kept.has(rule.parent)) {
      kept.add(rule.name);
      for (const dep of ruleSet.dependenciesOf(rule.name)) kept.add(dep);
    }
  }
  const { ruleSet: filtered } = buildRuleSet(ruleSet.rules.filter((r) => kept.has(r.name)));
  return { ruleSet: filtered, tagged };
}

/** The matches without those of named rules that are not to be reported. */
export function reportedMatches(
  ruleSet: RuleSet,
  matches: Matches,
  tagged: ReadonlySet<string>,
): Matches {
  const out: Matches = new Map();
  for (const [name, found] of matches) {
    const rule = ruleSet.byName.get(name);
    if (rule && rule.parent === undefined && !tagged.has(name)) continue;
    out.set(name, found);
  }
  return out;
}
