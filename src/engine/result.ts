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
