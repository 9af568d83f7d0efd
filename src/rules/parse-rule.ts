import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node, Pair, YAMLMap } from 'yaml';
import {
  MAX_OPERAND_INDEX,
  bytesToHex,
  featureKey,
  isTextKind,
  type Feature,
  type PropertyAccess,
  type TextKind,
} from '../features/feature.js';
import type { Rule, RuleMeta, SourcePosition, Statement } from './ast.js';
import { COM_CLASSES, COM_INTERFACES, guidBytes } from './com-database.js';
import { RuleError } from './errors.js';
import { compilePythonRegex } from './regex.js';
import {
  DYNAMIC_SCOPES,
  STATIC_SCOPES,
  SUBSCOPE_KEYS,
  hasScope,
  isSupported,
  subscopeParents,
  subscopeScopes,
  type DynamicScope,
  type RuleScopes,
  type StaticScope,
  type Subscope,
} from './scopes.js';
import { VALID_ARCHES, VALID_FORMATS, VALID_OSES } from './values.js';
import { PYYAML_OPTIONS } from './yaml-schema.js';

/** The largest `bytes:` pattern capa accepts. */
export const MAX_BYTES_FEATURE_SIZE = 0x100;

const DESCRIPTION_SEPARATOR = ' = ';

/** Meta keys holding lists of strings, and where they go in `RuleMeta`. */
const LIST_FIELDS: Record<string, 'authors' | 'attack' | 'mbc' | 'references' | 'examples'> = {
  authors: 'authors',
  'att&ck': 'attack',
  mbc: 'mbc',
  references: 'references',
  examples: 'examples',
};

/**
 * Reads one rule from YAML text. Throws a RuleError naming the line and column of the
 * first problem found.
 */
export function parseRule(text: string, path: string): Rule {
  return new RuleParser(text, path).parse();
}

type Scalarish = string | bigint | number | boolean | null;

class RuleParser {
  private readonly lines = new LineCounter();

  constructor(
    private readonly text: string,
    private readonly path: string,
  ) {}

  parse(): Rule {
    const doc = parseDocument(this.text, {
      ...PYYAML_OPTIONS,
      lineCounter: this.lines,
      uniqueKeys: true,
    });
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const at = this.lines.linePos(e.pos[0]);
      throw new RuleError(this.path, at, `invalid YAML: ${e.message.split('\n')[0]}`);
    }
    const root = doc.contents;
    if (!isMap(root)) throw this.error(root, 'a rule file must be a mapping with a `rule:` key');
    const ruleNode = this.onlyKeys(root, ['rule'], 'top level').get('rule');
    if (!ruleNode) throw this.error(root, 'missing `rule:` key');
    if (!isMap(ruleNode)) throw this.error(ruleNode, '`rule:` must be a mapping');
    const fields = this.onlyKeys(ruleNode, ['meta', 'features'], 'rule');
    const metaNode = fields.get('meta');
    if (!metaNode) throw this.error(ruleNode, 'rule has no `meta:` section');
    const meta = this.parseMeta(metaNode);
    const featuresNode = fields.get('features');
    if (!featuresNode) throw this.error(ruleNode, 'rule has no `features:` section');
    if (!isSeq(featuresNode) || featuresNode.items.length !== 1) {
      throw this.error(featuresNode, 'rule must begin with a single top level statement');
    }
    const top = featuresNode.items[0] as Node;
    const statement = this.parseStatement(top, meta.scopes);
    if (statement.type === 'subscope') {
      throw this.error(top, 'top level statement may not be a subscope');
    }
    const position = this.position((metaNode as YAMLMap).get('name', true) as Node);
    return { name: meta.name, meta, statement, source: this.text, path: this.path, position };
  }

  // --- meta -------------------------------------------------------------------------------

  private parseMeta(node: Node): RuleMeta {
    if (!isMap(node)) throw this.error(node, '`meta:` must be a mapping');
    let name: string | undefined;
    let scopes: RuleScopes | undefined;
    const meta: Omit<RuleMeta, 'name' | 'scopes'> = {
      authors: [],
      attack: [],
      mbc: [],
      references: [],
      examples: [],
      lib: false,
      extra: {},
    };
    // fields are checked in the order they are written, so the first problem is reported
    for (const pair of node.items) {
      const key = this.keyText(pair);
      const keyNode = pair.key as Node;
      const value = pair.value as Node;
      const list = LIST_FIELDS[key];
      if (list) {
        meta[list] = this.stringList(value, key);
        continue;
      }
      switch (key) {
        case 'name':
          name = this.stringValue(value, 'name');
          if (name.trim() === '') throw this.error(value, 'rule name is empty');
          break;
        case 'scopes':
          scopes = this.parseScopes(value);
          break;
        case 'namespace':
          meta.namespace = this.stringValue(value, 'namespace');
          break;
        case 'description':
          meta.description = this.stringValue(value, 'description');
          break;
        case 'lib': {
          const v = value ? this.scalar(value) : null;
          if (typeof v !== 'boolean') throw this.error(value ?? keyNode, '`lib:` must be true or false');
          meta.lib = v;
          break;
        }
        case 'scope':
          throw this.error(
            keyNode,
            '`scope:` is no longer supported: use `scopes:` with `static:` and `dynamic:`',
          );
        default:
          if (!key.startsWith('maec/') && key !== 'rule-category') {
            throw this.error(keyNode, `unknown meta key: ${key}`);
          }
          meta.extra[key] = value?.toJSON() ?? null;
      }
    }
    if (name === undefined) throw this.error(node, 'rule has no `name:`');
    if (scopes === undefined) throw this.error(node, 'rule has no `scopes:`');
    return { ...meta, name, scopes };
  }

  private parseScopes(node: Node): RuleScopes {
    if (!isMap(node)) throw this.error(node, '`scopes:` must be a mapping with `static:` and `dynamic:`');
    const fields = this.onlyKeys(node, ['static', 'dynamic'], 'scopes');
    const read = <S extends string>(
      key: 'static' | 'dynamic',
      valid: readonly S[],
    ): S | null => {
      const v = fields.get(key);
      if (!v) throw this.error(node, `\`scopes:\` must give a \`${key}:\` scope (or \`unsupported\`)`);
      const text = this.stringValue(v, `${key} scope`);
      if (text === 'unsupported') return null;
      if (!(valid as readonly string[]).includes(text)) {
        throw this.error(
          v,
          `invalid ${key} scope: ${text} (expected one of: ${valid.join(', ')}, unsupported)`,
        );
      }
      return text as S;
    };
    const scopes: RuleScopes = {
      static: read<StaticScope>('static', STATIC_SCOPES),
      dynamic: read<DynamicScope>('dynamic', DYNAMIC_SCOPES),
    };
    if (scopes.static === null && scopes.dynamic === null) {
      throw this.error(node, 'at least one of the static and dynamic scopes must be supported');
    }
    return scopes;
  }

  // --- statements -------------------------------------------------------------------------

  private parseStatement(node: Node, scopes: RuleScopes): Statement {
    if (!isMap(node)) {
      throw this.error(node, 'expected a statement or feature (a `key: value` mapping)');
    }
    let main: Pair | undefined;
    let descriptionPair: Pair | undefined;
    for (const pair of node.items) {
      const key = this.keyText(pair);
      if (key === 'description') {
        descriptionPair = pair;
      } else if (main) {
        throw this.error(
          pair.key as Node,
          `one statement per list item: found \`${this.keyText(main)}\` and \`${key}\``,
        );
      } else {
        main = pair;
      }
    }
    if (!main) throw this.error(node, 'a `description:` needs a statement or feature beside it');
    const key = this.keyText(main);
    const keyNode = main.key as Node;
    const value = main.value as Node | null;
    const description = descriptionPair
      ? this.stringValue(descriptionPair.value as Node, 'description')
      : undefined;
    const position = this.position(keyNode);

    const some = /^(\d+) or more$/.exec(key);
    if (
      key === 'and' ||
      key === 'or' ||
      key === 'not' ||
      key === 'optional' ||
      some ||
      (SUBSCOPE_KEYS as readonly string[]).includes(key)
    ) {
      const { children, childDescription } = this.parseChildren(key, keyNode, value, scopes);
      if (description !== undefined && childDescription !== undefined) {
        throw this.error(keyNode, 'statements can only have one description');
      }
      const base = { position, description: description ?? childDescription };
      if (key === 'and' || key === 'or') return { ...base, type: key, children: children() };
      if (key === 'not') {
        const list = children();
        if (list.length !== 1) {
          throw this.error(keyNode, '`not` must have exactly one child statement');
        }
        return { ...base, type: 'not', child: list[0]! };
      }
      if (key === 'optional') return { ...base, type: 'some', count: 0, children: children(), optional: true };
      if (some) return { ...base, type: 'some', count: Number(some[1]), children: children() };
      return this.parseSubscope(key as Subscope, keyNode, value as Node, scopes, base);
    }
    if (key.startsWith('count(')) {
      return this.parseCount(key, keyNode, value, scopes, description);
    }
    return this.parseFeatureStatement(key, keyNode, value, scopes, description);
  }

  /** The child statements of a block, with its `- description:` entry taken out. */
  private parseChildren(
    key: string,
    keyNode: Node,
    value: Node | null,
    scopes: RuleScopes,
  ): { children: (inner?: RuleScopes) => Statement[]; childDescription?: string } {
    if (!isSeq(value) || value.items.length === 0) {
      throw this.error(value ?? keyNode, `\`${key}\` must be a list of child statements`);
    }
    const items: Node[] = [];
    let childDescription: string | undefined;
    for (const item of value.items as Node[]) {
      if (isMap(item) && item.items.length === 1 && this.keyText(item.items[0]!) === 'description') {
        if (childDescription !== undefined) {
          throw this.error(item, 'statements can only have one description');
        }
        childDescription = this.stringValue(item.items[0]!.value as Node, 'description');
      } else {
        items.push(item);
      }
    }
    if (items.length === 0) throw this.error(value, `\`${key}\` has no child statements`);
    return {
      childDescription,
      children: (inner = scopes) => items.map((item) => this.parseStatement(item, inner)),
    };
  }

  private parseSubscope(
    scope: Subscope,
    keyNode: Node,
    value: Node,
    scopes: RuleScopes,
    base: { position: SourcePosition; description?: string },
  ): Statement {
    const parents = subscopeParents(scope);
    if (!parents.some((parent) => hasScope(scopes, parent))) {
      throw this.error(
        keyNode,
        `\`${scope}\` subscope is supported only in ${parents.join(', ')} scope`,
      );
    }
    const { children } = this.parseChildren(scope, keyNode, value, scopes);
    const list = children(subscopeScopes(scope));
    if (list.length !== 1 && scope !== 'instruction') {
      throw this.error(keyNode, `\`${scope}\` subscope must have exactly one child statement`);
    }
    const child: Statement =
      list.length === 1 ? list[0]! : { type: 'and', children: list, position: base.position };
    return { ...base, type: 'subscope', scope, child };
  }

  private parseCount(
    key: string,
    keyNode: Node,
    value: Node | null,
    scopes: RuleScopes,
    description: string | undefined,
  ): Statement {
    const m = /^count\((.*)\)$/.exec(key);
    if (!m) throw this.error(keyNode, `invalid count statement: ${key}`);
    const term = m[1]!;
    const position = this.position(keyNode);
    let feature: Feature;
    if (term === 'basic blocks') {
      feature = { kind: 'basic block' };
      this.checkSupported(scopes, 'basic block', undefined, keyNode);
    } else {
      const inner = /^([^(]+)\((.*)\)$/.exec(term);
      if (!inner) throw this.error(keyNode, `invalid count statement: ${key}`);
      const kind = inner[1]!;
      let arg = inner[2]!;
      if (kind !== 'string') {
        const split = this.splitDescription(arg, undefined, keyNode);
        arg = split.value as string;
        description ??= split.description;
      }
      const statement = this.buildFeature(kind, arg, keyNode, scopes, undefined);
      if (statement.type !== 'feature') {
        throw this.error(keyNode, `count() needs an exact feature, not \`${kind}\``);
      }
      feature = statement.feature;
    }
    const { min, max } = this.parseRange(value, keyNode);
    return { type: 'range', feature, key: featureKey(feature), min, max, position, description };
  }

  private parseRange(value: Node | null, keyNode: Node): { min: number; max: number } {
    const v = value ? this.scalar(value) : null;
    const at = value ?? keyNode;
    const exact = (n: bigint | string): number => {
      const x = typeof n === 'bigint' ? n : BigInt(n);
      if (x < 0n) throw this.error(at, 'count must not be negative');
      return Number(x);
    };
    if (typeof v === 'bigint') {
      const n = exact(v);
      return { min: n, max: n };
    }
    if (typeof v === 'string') {
      const s = v.trim();
      let m = /^(\d+)\s+or\s+more$/.exec(s);
      if (m) return { min: exact(m[1]!), max: Infinity };
      m = /^(\d+)\s+or\s+fewer$/.exec(s);
      if (m) return { min: 0, max: exact(m[1]!) };
      m = /^\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)$/.exec(s);
      if (m) {
        const lo = BigInt(m[1]!);
        const hi = BigInt(m[2]!);
        if (lo < 0n) throw this.error(at, 'range minimum must not be negative');
        if (hi < 0n) throw this.error(at, 'range maximum must not be negative');
        if (hi < lo) throw this.error(at, 'range maximum is less than its minimum');
        return { min: Number(lo), max: Number(hi) };
      }
    }
    throw this.error(
      at,
      'invalid count: expected N, `N or more`, `N or fewer` or `(min, max)`',
    );
  }

  private parseFeatureStatement(
    key: string,
    keyNode: Node,
    value: Node | null,
    scopes: RuleScopes,
    description: string | undefined,
  ): Statement {
    if (value === null || !isScalar(value)) {
      throw this.error(value ?? keyNode, `\`${key}\` needs a single value`);
    }
    return this.buildFeature(key, this.scalar(value), keyNode, scopes, description, value);
  }

  /** Splits `value = description`, as capa does for every feature but `string`. */
  private splitDescription(
    value: Scalarish,
    description: string | undefined,
    at: Node,
  ): { value: Scalarish; description?: string } {
    if (typeof value !== 'string') return { value, description };
    const i = value.indexOf(DESCRIPTION_SEPARATOR);
    if (i < 0) return { value, description };
    if (description !== undefined) {
      throw this.error(at, 'only one description allowed: inline ` = ` and `description:` both given');
    }
    const text = value.slice(i + DESCRIPTION_SEPARATOR.length);
    if (text.trim() === '') throw this.error(at, `empty inline description in: ${value}`);
    return { value: value.slice(0, i).trimEnd(), description: text };
  }

  private buildFeature(
    kind: string,
    raw: Scalarish,
    keyNode: Node,
    scopes: RuleScopes,
    givenDescription: string | undefined,
    valueNode?: Node,
  ): Statement {
    const at = valueNode ?? keyNode;
    const position = this.position(keyNode);
    if (kind === 'string') {
      if (typeof raw !== 'string') {
        throw this.error(at, `ambiguous string value ${String(raw)}: quote it to make it a string`);
      }
      const regex = /^\/(.*)\/(i?)$/s.exec(raw);
      if (regex) {
        this.checkSupported(scopes, 'regex', undefined, keyNode);
        let compiled: RegExp;
        try {
          compiled = compilePythonRegex(regex[1]!, regex[2] === 'i');
        } catch (e) {
          throw this.error(at, `invalid regular expression ${raw}: ${(e as Error).message}`);
        }
        return {
          type: 'regex',
          source: regex[1]!,
          flags: regex[2]!,
          regex: compiled,
          position,
          description: givenDescription,
        };
      }
      this.checkSupported(scopes, 'string', undefined, keyNode);
      const feature: Feature = { kind: 'string', value: raw };
      return { type: 'feature', feature, key: featureKey(feature), position, description: givenDescription };
    }

    const { value, description } = this.splitDescription(raw, givenDescription, at);
    const base = { position, description };

    if (kind === 'com/class' || kind === 'com/interface') {
      const table = kind === 'com/class' ? COM_CLASSES : COM_INTERFACES;
      const name = this.requireString(value, kind, at);
      const guid = table[name];
      if (!guid) throw this.error(at, `unknown COM ${kind.slice(4)} name: ${name}`);
      const symbol = `${kind === 'com/class' ? 'CLSID' : 'IID'}_${name}`;
      const asString: Feature = { kind: 'string', value: guid };
      const asBytes = guidBytes(guid);
      return {
        ...base,
        type: 'or',
        children: [
          { type: 'feature', feature: asString, key: featureKey(asString), position, description: `${symbol} as GUID string` },
          { type: 'bytes', value: asBytes, key: `bytes(${bytesToHex(asBytes)})`, position, description: `${symbol} as bytes` },
        ],
      };
    }
    if (kind === 'substring') {
      this.checkSupported(scopes, 'substring', undefined, keyNode);
      return { ...base, type: 'substring', value: this.requireString(value, kind, at) };
    }
    if (kind === 'bytes') {
      this.checkSupported(scopes, 'bytes', undefined, keyNode);
      const text = this.requireString(value, kind, at).replace(/ /g, '');
      if (!/^([0-9a-fA-F]{2})+$/.test(text)) {
        throw this.error(at, `invalid bytes: ${String(value)} (expected hex pairs like "4D 5A 90")`);
      }
      if (text.length / 2 > MAX_BYTES_FEATURE_SIZE) {
        throw this.error(at, `bytes pattern is ${text.length / 2} bytes, more than the limit of 256`);
      }
      const bytes = Uint8Array.from(text.match(/../g)!, (h) => parseInt(h, 16));
      return { ...base, type: 'bytes', value: bytes, key: `bytes(${bytesToHex(bytes)})` };
    }
    if (kind === 'number' || kind === 'offset') {
      this.checkSupported(scopes, kind, undefined, keyNode);
      const feature: Feature = { kind, value: this.integer(value, kind, at) };
      return { ...base, type: 'feature', feature, key: featureKey(feature) };
    }
    const operand = /^operand\[(\d+)\]\.(number|offset)$/.exec(kind);
    if (operand) {
      const index = Number(operand[1]);
      if (index > MAX_OPERAND_INDEX) {
        throw this.error(keyNode, `operand index ${index} out of range 0-${MAX_OPERAND_INDEX}`);
      }
      const operandKind = operand[2] === 'number' ? 'operand number' : 'operand offset';
      this.checkSupported(scopes, operandKind, undefined, keyNode, kind);
      const feature: Feature = { kind: operandKind, index, value: this.integer(value, kind, at) };
      return { ...base, type: 'feature', feature, key: featureKey(feature) };
    }
    const property = /^property(?:\/(read|write))?$/.exec(kind);
    if (property) {
      this.checkSupported(scopes, 'property', undefined, keyNode, kind);
      const feature: Feature = {
        kind: 'property',
        access: (property[1] ?? '') as PropertyAccess,
        value: this.requireString(value, kind, at),
      };
      return { ...base, type: 'feature', feature, key: featureKey(feature) };
    }
    if (!isTextKind(kind)) throw this.error(keyNode, `unknown feature or statement: ${kind}`);
    let text = this.requireString(value, kind, at);
    if (kind === 'characteristic') {
      this.checkSupported(scopes, 'characteristic', text, keyNode);
    } else {
      this.checkSupported(scopes, kind, undefined, keyNode);
    }
    if (kind === 'api') text = normalizeApiName(text);
    const allowed = { os: VALID_OSES, arch: VALID_ARCHES, format: VALID_FORMATS }[kind as string];
    if (allowed && !allowed.includes(text)) {
      throw this.error(at, `invalid ${kind}: ${text} (expected one of: ${allowed.join(', ')})`);
    }
    if (kind === 'os') return { ...base, type: 'os', value: text, key: `os(${text})` };
    const feature: Feature = { kind: kind as TextKind, value: text };
    return { ...base, type: 'feature', feature, key: featureKey(feature) };
  }

  private checkSupported(
    scopes: RuleScopes,
    kind: string,
    characteristic: string | undefined,
    at: Node,
    shownKind = kind,
  ): void {
    if (isSupported(scopes, kind, characteristic)) return;
    const where = [scopes.static, scopes.dynamic].filter((s) => s !== null).join(' or ');
    const what =
      kind === 'characteristic' ? `characteristic \`${characteristic}\`` : `feature \`${shownKind}\``;
    throw this.error(at, `${what} is not supported in ${where} scope`);
  }

  // --- scalars ----------------------------------------------------------------------------

  private integer(value: Scalarish, kind: string, at: Node): bigint {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'string') {
      const m = /^\s*(-)?(0x[0-9a-fA-F]+|\d+)\s*$/.exec(value);
      if (m) {
        const magnitude = BigInt(m[2]!);
        return m[1] ? -magnitude : magnitude;
      }
    }
    throw this.error(at, `invalid ${kind} value: ${String(value)} (expected an integer)`);
  }

  private requireString(value: Scalarish, kind: string, at: Node): string {
    if (typeof value !== 'string') {
      throw this.error(at, `\`${kind}\` value must be a string, got ${String(value)}`);
    }
    return value;
  }

  private scalar(node: Node): Scalarish {
    if (!isScalar(node)) throw this.error(node, 'expected a single value');
    const v = node.value;
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    if (v === null || typeof v === 'string' || typeof v === 'bigint' || typeof v === 'boolean' || typeof v === 'number') {
      return v;
    }
    return String(v);
  }

  private stringValue(node: Node, what: string): string {
    const v = this.scalar(node);
    if (typeof v !== 'string') throw this.error(node, `\`${what}\` must be a string`);
    return v;
  }

  private stringList(node: Node | undefined, what: string): string[] {
    if (!node) return [];
    if (isScalar(node) && node.value === null) return [];
    if (!isSeq(node)) throw this.error(node, `\`${what}\` must be a list`);
    return (node.items as Node[]).map((item) => {
      const v = this.scalar(item);
      if (v === null || typeof v === 'boolean') {
        throw this.error(item, `\`${what}\` entries must be strings`);
      }
      return typeof v === 'bigint' ? v.toString() : String(v);
    });
  }

  private keyText(pair: Pair): string {
    const key = pair.key as Node | null;
    if (!isScalar(key) || key.value === null) throw this.error(key, 'expected a key');
    return String(key.value);
  }

  /** The values of a mapping by key, rejecting keys not in `allowed`. */
  private onlyKeys(node: YAMLMap, allowed: string[], where: string): Map<string, Node> {
    const out = new Map<string, Node>();
    for (const pair of node.items) {
      const key = this.keyText(pair);
      if (!allowed.includes(key)) {
        throw this.error(pair.key as Node, `unknown key in ${where}: ${key} (expected: ${allowed.join(', ')})`);
      }
      out.set(key, pair.value as Node);
    }
    return out;
  }

  private position(node: Node | null | undefined): SourcePosition {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  private error(node: Node | null | undefined, message: string): RuleError {
    return new RuleError(this.path, this.position(node), message);
  }
}

/** `kernel32.CreateFileA` → `CreateFileA`: rules' `api` ignores the DLL, as in capa. */
export function normalizeApiName(name: string): string {
  if (name.includes('::')) return name;
  const parts = name.split('.');
  if (parts.length === 2 && !parts[1]!.startsWith('#')) return parts[1]!;
  return name;
}
