import { RuleError } from './errors.js';
import { parseRule } from './parse-rule.js';
import { buildRuleSet, type RuleSetBuild } from './rule-set.js';
import type { Rule } from './ast.js';

export interface RuleText {
  path: string;
  text: string;
}

/** Parses each rule text; a bad one is reported and the others still parse. */
export function parseRules(texts: Iterable<RuleText>): { rules: Rule[]; errors: RuleError[] } {
  const rules: Rule[] = [];
  const errors: RuleError[] = [];
  for (const { path, text } of texts) {
    try {
      rules.push(parseRule(text, path));
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      errors.push(e);
    }
  }
  return { rules, errors };
}

/**
 * Parses and validates rule texts into a rule set. Every bad rule is reported; the good
 * ones still load.
 */
export function loadRules(texts: Iterable<RuleText>): RuleSetBuild {
  const { rules, errors } = parseRules(texts);
  const build = buildRuleSet(rules);
  return { ruleSet: build.ruleSet, errors: [...errors, ...build.errors] };
}
