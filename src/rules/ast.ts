import type { Feature } from '../features/feature.js';
import type { RuleScopes, Subscope } from './scopes.js';

/** A position in a rule file, 1-based. */
export interface SourcePosition {
  line: number;
  col: number;
}

interface NodeBase {
  description?: string;
  position?: SourcePosition;
}

export interface AndNode extends NodeBase {
  type: 'and';
  children: Statement[];
}

export interface OrNode extends NodeBase {
  type: 'or';
  children: Statement[];
}

export interface NotNode extends NodeBase {
  type: 'not';
  child: Statement;
}

/** `N or more` (and `optional`, which is `0 or more`). */
export interface SomeNode extends NodeBase {
  type: 'some';
  count: number;
  children: Statement[];
  /** Written as `optional:` rather than `0 or more:`. */
  optional?: boolean;
}

/** `count(feature): …` — how many distinct locations of one exact feature. */
export interface RangeNode extends NodeBase {
  type: 'range';
  feature: Feature;
  key: string;
  min: number;
  max: number;
}

/** A subscope block, before it is turned into a derived rule by the rule set. */
export interface SubscopeNode extends NodeBase {
  type: 'subscope';
  scope: Subscope;
  child: Statement;
}

/** A feature looked up exactly by its key. */
export interface FeatureNode extends NodeBase {
  type: 'feature';
  feature: Feature;
  key: string;
  /** Set on the `match:` that stands for a subscope block turned into a derived rule. */
  subscope?: Subscope;
}

/** `substring:` — any `string` feature containing the value. */
export interface SubstringNode extends NodeBase {
  type: 'substring';
  value: string;
}

/** `string: /re/flags` — any `string` feature the regex finds a match in. */
export interface RegexNode extends NodeBase {
  type: 'regex';
  /** The pattern as written in the rule, between the slashes. */
  source: string;
  flags: string;
  regex: RegExp;
}

/** `bytes:` — any `bytes` feature that starts with the value. */
export interface BytesNode extends NodeBase {
  type: 'bytes';
  value: Uint8Array;
  key: string;
}

/** `os:` — matches the extracted os, with `any` on either side matching every os. */
export interface OsNode extends NodeBase {
  type: 'os';
  value: string;
  key: string;
}

export type Statement =
  | AndNode
  | OrNode
  | NotNode
  | SomeNode
  | RangeNode
  | SubscopeNode
  | FeatureNode
  | SubstringNode
  | RegexNode
  | BytesNode
  | OsNode;

/** Everything under `meta:`, as written, plus the fields the engine relies on. */
export interface RuleMeta {
  name: string;
  namespace?: string;
  authors: string[];
  description?: string;
  scopes: RuleScopes;
  attack: string[];
  mbc: string[];
  references: string[];
  examples: string[];
  lib: boolean;
  /** Every other key of `meta:` (`maec/*`, `rule-category`, custom keys), as parsed YAML. */
  extra: Record<string, unknown>;
}

export interface Rule {
  name: string;
  meta: RuleMeta;
  statement: Statement;
  /** The YAML text the rule was read from (the result document carries it). */
  source: string;
  /** Where the rule came from, as given to the loader. */
  path: string;
  /** Where the rule's name is written. */
  position?: SourcePosition;
  /** For rules derived from a subscope block: the rule that contains it. */
  parent?: string;
}
