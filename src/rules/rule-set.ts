import { textKey } from '../features/feature.js';
import type { Rule, Statement } from './ast.js';
import { RuleError } from './errors.js';
import { namespacePrefixes, ruleMatchKeys } from './namespaces.js';
import { RuleIndex } from './rule-index.js';
import { subscopeScopes, type Scope } from './scopes.js';

/**
 * A validated collection of rules: subscope blocks turned into derived rules, every `match:`
 * resolved, rules in dependency order and indexed per scope by the features they need.
 */
export class RuleSet {
  /** Every rule, derived ones included, dependencies before dependents. */
  readonly rules: readonly Rule[];
  readonly byName: ReadonlyMap<string, Rule>;
  /** Names of the rules each rule needs (directly or through a namespace), transitively. */
  private readonly closure = new Map<string, ReadonlySet<string>>();
  private readonly indexes = new Map<Scope, RuleIndex>();
  private readonly matchKeysByName = new Map<string, readonly string[]>();

  constructor(ordered: Rule[], dependencies: Map<string, Set<string>>) {
    this.rules = ordered;
    this.byName = new Map(ordered.map((r) => [r.name, r]));
    for (const rule of ordered) {
      const all = new Set<string>();
      for (const dep of dependencies.get(rule.name) ?? []) {
        all.add(dep);
        for (const d of this.closure.get(dep) ?? []) all.add(d);
      }
      this.closure.set(rule.name, all);
    }
  }

  /** The rules that apply in a scope, indexed, in dependency order. */
  index(scope: Scope): RuleIndex {
    let index = this.indexes.get(scope);
    if (!index) {
      const rules = this.rules.filter(
        (r) => r.meta.scopes.static === scope || r.meta.scopes.dynamic === scope,
      );
      index = new RuleIndex(rules);
      this.indexes.set(scope, index);
    }
    return index;
  }

  /** The features a match of the rule `name` adds (see `ruleMatchKeys`). */
  matchKeys(name: string): readonly string[] {
    let keys = this.matchKeysByName.get(name);
    if (!keys) this.matchKeysByName.set(name, (keys = ruleMatchKeys(this.byName.get(name)!)));
    return keys;
  }

  /** Every rule `name` depends on, directly or not. */
  dependenciesOf(name: string): ReadonlySet<string> {
    return this.closure.get(name) ?? new Set();
  }

  /** The rules users see: not derived from subscopes. */
  get namedRules(): Rule[] {
    return this.rules.filter((r) => r.parent === undefined);
  }
}

export interface RuleSetBuild {
  ruleSet: RuleSet;
  /** Rules that could not join the set, each with why. The others still load. */
  errors: RuleError[];
}

/** Builds a rule set from parsed rules, reporting every rule that cannot join it. */
export function buildRuleSet(parsed: readonly Rule[]): RuleSetBuild {
  const errors: RuleError[] = [];
  const byName = new Map<string, Rule>();
  for (const rule of parsed) {
    const existing = byName.get(rule.name);
    if (existing) {
      errors.push(
        new RuleError(rule.path, rule.position, `duplicate rule name: ${rule.name} (first defined in ${existing.path})`),
      );
      continue;
    }
    byName.set(rule.name, rule);
  }

  const all: Rule[] = [];
  for (const rule of byName.values()) all.push(...extractSubscopes(rule));

  // namespaces: every prefix of every namespace names the rules under it
  const namespaces = new Map<string, string[]>();
  for (const rule of all) {
    const ns = rule.meta.namespace;
    if (!ns) continue;
    for (const prefix of namespacePrefixes(ns)) {
      let members = namespaces.get(prefix);
      if (!members) namespaces.set(prefix, (members = []));
      members.push(rule.name);
    }
  }
  const ruleNames = new Set(all.map((r) => r.name));

  // direct dependencies; a rule whose `match:` resolves to nothing is rejected
  const dependencies = new Map<string, Set<string>>();
  const rejected = new Map<string, RuleError>(); // by top-level rule name
  const reject = (rule: Rule, error: RuleError) => {
    const top = rule.parent ?? rule.name;
    if (!rejected.has(top)) rejected.set(top, error);
  };
  for (const rule of all) {
    const deps = new Set<string>();
    for (const node of matchNodes(rule.statement)) {
      const members = namespaces.get(node.value);
      if (members) {
        for (const m of members) deps.add(m);
      } else if (ruleNames.has(node.value)) {
        deps.add(node.value);
      } else {
        reject(rule, new RuleError(rule.path, node.position, `match: ${node.value} names no rule or namespace`));
      }
    }
    dependencies.set(rule.name, deps);
  }

  const ordered = orderByDependencies(all, dependencies, reject);

  // a rule that needs a rejected rule by name cannot load either (a namespace may lose members)
  for (let changed = true; changed; ) {
    changed = false;
    for (const rule of ordered) {
      if (rejected.has(rule.parent ?? rule.name)) continue;
      for (const node of matchNodes(rule.statement)) {
        const target = byName.get(node.value);
        if (!namespaces.has(node.value) && target && rejected.has(target.name)) {
          reject(rule, new RuleError(rule.path, node.position, `match: ${node.value} names a rule that failed to load`));
          changed = true;
          break;
        }
      }
    }
  }
  errors.push(...rejected.values());
  const kept = ordered.filter((r) => !rejected.has(r.parent ?? r.name));
  const keptNames = new Set(kept.map((r) => r.name));
  for (const deps of dependencies.values()) {
    for (const d of deps) if (!keptNames.has(d)) deps.delete(d);
  }
  return { ruleSet: new RuleSet(kept, dependencies), errors };
}

/** Replaces each subscope block by a `match:` of a derived rule in that scope. */
function extractSubscopes(rule: Rule, top = rule.name): Rule[] {
  const derived: Rule[] = [];
  let counter = 0;
  const visit = (node: Statement): Statement => {
    switch (node.type) {
      case 'and':
      case 'or':
      case 'some':
        return { ...node, children: node.children.map(visit) };
      case 'not':
        return { ...node, child: visit(node.child) };
      case 'subscope': {
        const name = `${rule.name}/${node.scope} ${++counter}`;
        derived.push(
          ...extractSubscopes({
            name,
            meta: {
              ...rule.meta,
              name,
              namespace: undefined,
              scopes: subscopeScopes(node.scope),
              lib: true,
              attack: [],
              mbc: [],
              examples: [],
              references: [],
              description: node.description,
            },
            statement: node.child,
            source: rule.source,
            path: rule.path,
            position: node.position,
            parent: top,
          }, top),
        );
        return {
          type: 'feature',
          feature: { kind: 'match', value: name },
          key: textKey('match', name),
          position: node.position,
          description: node.description,
          subscope: node.scope,
        };
      }
      default:
        return node;
    }
  };
  const statement = visit(rule.statement);
  return [...derived, { ...rule, statement }];
}

function* matchNodes(node: Statement): Generator<{ value: string; position?: Statement['position'] }> {
  switch (node.type) {
    case 'and':
    case 'or':
    case 'some':
      for (const c of node.children) yield* matchNodes(c);
      return;
    case 'not':
    case 'subscope':
      yield* matchNodes(node.child);
      return;
    case 'feature':
    case 'range':
      if (node.feature.kind === 'match') yield { value: node.feature.value, position: node.position };
      return;
    default:
      return;
  }
}

/** Dependencies first; rules in a cycle are rejected. Deterministic: input order otherwise. */
function orderByDependencies(
  rules: Rule[],
  dependencies: Map<string, Set<string>>,
  reject: (rule: Rule, error: RuleError) => void,
): Rule[] {
  const byName = new Map(rules.map((r) => [r.name, r]));
  const state = new Map<string, 'visiting' | 'done'>();
  const out: Rule[] = [];
  const stack: string[] = [];
  const visit = (name: string): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = stack.slice(stack.indexOf(name)).concat(name);
      for (const member of cycle) {
        const rule = byName.get(member)!;
        const shown = byName.get(rule.parent ?? rule.name) ?? rule;
        reject(rule, new RuleError(shown.path, shown.position, `dependency cycle: ${cycle.join(' -> ')}`));
      }
      return;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of dependencies.get(name) ?? []) visit(dep);
    stack.pop();
    state.set(name, 'done');
    out.push(byName.get(name)!);
  };
  for (const rule of rules) visit(rule.name);
  return out;
}
