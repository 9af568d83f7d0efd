import { FeatureSet } from '../features/feature-set.js';
import type { Location } from '../features/location.js';
import type { RuleSet } from '../rules/rule-set.js';
import type { Matches, Result } from './result.js';

/**
 * Gathers the matches of every scope below the file, and the `match(...)` features they give
 * the file scope (each at the location of the match).
 */
export class MatchCollector {
  readonly matches: Matches = new Map();
  /** `match(name)` and `match(namespace)` features of every collected match. */
  readonly lower = new FeatureSet();

  constructor(private readonly ruleSet: RuleSet) {}

  collect(found: ReadonlyMap<string, Result>, location: Location): void {
    for (const [name, result] of found) {
      this.add(name, location, result);
      for (const key of this.ruleSet.matchKeys(name)) this.lower.add(key, location);
    }
  }

  /** Records a match without giving it to the file scope (the file scope's own matches). */
  add(name: string, location: Location, result: Result): void {
    let list = this.matches.get(name);
    if (!list) this.matches.set(name, (list = []));
    list.push([location, result]);
  }
}
