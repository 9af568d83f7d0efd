/** The scopes of capa's rule language and what each may contain. */

export const STATIC_SCOPES = ['file', 'function', 'basic block', 'instruction'] as const;
export const DYNAMIC_SCOPES = ['file', 'process', 'thread', 'span of calls', 'call'] as const;

export type StaticScope = (typeof STATIC_SCOPES)[number];
export type DynamicScope = (typeof DYNAMIC_SCOPES)[number];
export type Scope = StaticScope | DynamicScope | 'global';

/** A rule's scopes: null where the rule does not apply (`unsupported`). */
export interface RuleScopes {
  static: StaticScope | null;
  dynamic: DynamicScope | null;
}

/**
 * The feature kinds a scope supports, by the names rules use (`operand number` stands for
 * every `operand[N].number`). Characteristics are listed per value in `CHARACTERISTICS`.
 */
const OWN_FEATURES: Record<Scope, readonly string[]> = {
  global: ['os', 'arch', 'format'],
  file: [
    'match',
    'export',
    'import',
    'section',
    'function-name',
    'characteristic',
    'string',
    'substring',
    'regex',
    'class',
    'namespace',
  ],
  process: ['match'],
  thread: [],
  'span of calls': [],
  call: ['match', 'regex', 'string', 'substring', 'api', 'number'],
  function: ['match', 'basic block', 'characteristic'],
  'basic block': ['match', 'characteristic'],
  instruction: [
    'match',
    'api',
    'property',
    'number',
    'string',
    'substring',
    'regex',
    'bytes',
    'offset',
    'mnemonic',
    'operand number',
    'operand offset',
    'characteristic',
    'class',
    'namespace',
  ],
};

const OWN_CHARACTERISTICS: Partial<Record<Scope, readonly string[]>> = {
  file: ['embedded pe', 'mixed mode', 'forwarded export'],
  function: ['calls from', 'calls to', 'loop', 'recursive call'],
  'basic block': ['tight loop', 'stack string'],
  instruction: [
    'nzxor',
    'peb access',
    'fs access',
    'gs access',
    'indirect call',
    'call $+5',
    'cross section flow',
    'unmanaged call',
  ],
};

/** Scopes whose features also include those of an inner scope. */
const INCLUDES: Partial<Record<Scope, Scope>> = {
  function: 'basic block',
  'basic block': 'instruction',
  process: 'thread',
  thread: 'span of calls',
  'span of calls': 'call',
};

function collect(scope: Scope, table: Partial<Record<Scope, readonly string[]>>): Set<string> {
  const out = new Set<string>(table.global ?? []);
  for (let s: Scope | undefined = scope; s; s = INCLUDES[s]) {
    for (const k of table[s] ?? []) out.add(k);
  }
  return out;
}

const FEATURES = new Map<Scope, Set<string>>();
const CHARACTERISTICS = new Map<Scope, Set<string>>();
for (const scope of Object.keys(OWN_FEATURES) as Scope[]) {
  FEATURES.set(scope, collect(scope, OWN_FEATURES));
  CHARACTERISTICS.set(scope, collect(scope, OWN_CHARACTERISTICS));
}

/** Whether a feature kind (and, for characteristics, value) may appear in any of `scopes`. */
export function isSupported(scopes: RuleScopes, kind: string, characteristic?: string): boolean {
  for (const scope of [scopes.static, scopes.dynamic]) {
    if (scope === null) continue;
    if (!FEATURES.get(scope)!.has(kind)) continue;
    if (kind !== 'characteristic' || CHARACTERISTICS.get(scope)!.has(characteristic ?? '')) {
      return true;
    }
  }
  return false;
}

/** Whether a rule in these scopes names any scope (capa treats the shared `file` as both). */
export function hasScope(scopes: RuleScopes, scope: Scope): boolean {
  return scopes.static === scope || scopes.dynamic === scope;
}

export const SUBSCOPE_KEYS = [
  'process',
  'thread',
  'span of calls',
  'call',
  'function',
  'basic block',
  'instruction',
] as const;
export type Subscope = (typeof SUBSCOPE_KEYS)[number];

/**
 * The scopes a subscope block may appear in: its own scope and every scope enclosing it
 * (capa-rules nests, for example, `basic block:` in basic-block rules and `instruction:` in
 * file rules).
 */
export function subscopeParents(subscope: Subscope): Scope[] {
  for (const chain of [STATIC_SCOPES, DYNAMIC_SCOPES] as readonly (readonly Scope[])[]) {
    const depth = chain.indexOf(subscope);
    if (depth >= 0) return chain.slice(0, depth + 1);
  }
  return [];
}

export function subscopeScopes(subscope: Subscope): RuleScopes {
  return (STATIC_SCOPES as readonly string[]).includes(subscope)
    ? { static: subscope as StaticScope, dynamic: null }
    : { static: null, dynamic: subscope as DynamicScope };
}
