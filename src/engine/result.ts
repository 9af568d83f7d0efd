import type { Location } from '../features/location.js';
import type { Statement } from '../rules/ast.js';

/** The evaluation of one statement: whether it held, why (children), and where (locations). */
export interface Result {
  success: boolean;
  statement: Statement;
  children: Result[];
  /** Where the feature occurs (feature-like statements); empty for logic statements. */
  locations: ReadonlySet<Location>;
  /** For `substring` and regex statements: each matching string with its locations. */
  strings?: ReadonlyMap<string, ReadonlySet<Location>>;
}

/** Rule name → each location where it matched, with the full evaluation tree there. */
export type Matches = Map<string, [Location, Result][]>;

/**
 * For a `match:` standing for a subscope block that held: the derived rule's evaluation trees
 * at the places it held (what capa shows beneath the subscope). Undefined for other nodes.
 */
export function subscopeTrees(result: Result, matches: Matches): Result[] | undefined {
  const s = result.statement;
  if (s.type !== 'feature' || !s.subscope || s.feature.kind !== 'match' || !result.success) {
    return undefined;
  }
  return (matches.get(s.feature.value) ?? [])
    .filter(([location]) => result.locations.has(location))
    .map(([, tree]) => tree);
}
