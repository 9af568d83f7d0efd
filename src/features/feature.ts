/**
 * The closed vocabulary of features, as capa names them.
 *
 * A feature is identified by its key — its canonical text, e.g. `api(CreateFileA)`,
 * `number(0x10)`, `operand[1].offset(-0x8)`, `bytes(4d5a90)`, `basic block` — which is what
 * feature sets are indexed by. Numbers are bigints and their keys are exact hex, so 64-bit
 * and negative values are never rounded.
 */

/** Features whose value is a string. */
export const TEXT_KINDS = [
  'api',
  'string',
  'mnemonic',
  'export',
  'import',
  'section',
  'function-name',
  'characteristic',
  'os',
  'arch',
  'format',
  'match',
  'class',
  'namespace',
] as const;
export type TextKind = (typeof TEXT_KINDS)[number];

export const MAX_OPERAND_INDEX = 4;

export type Feature =
  | { kind: TextKind; value: string }
  | { kind: 'number' | 'offset'; value: bigint }
  | { kind: 'operand number' | 'operand offset'; index: number; value: bigint }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'property'; access: PropertyAccess; value: string }
  | { kind: 'basic block' };

/** `property` alone, or `property/read`, `property/write`. */
export type PropertyAccess = '' | 'read' | 'write';

export function hexInteger(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** The capa name of a feature's kind, as written in rules: `operand[0].number`, `property/read`. */
export function kindName(feature: Feature): string {
  switch (feature.kind) {
    case 'operand number':
      return `operand[${feature.index}].number`;
    case 'operand offset':
      return `operand[${feature.index}].offset`;
    case 'property':
      return feature.access ? `property/${feature.access}` : 'property';
    default:
      return feature.kind;
  }
}

/** The value as capa prints it: hex for numbers and bytes, the text otherwise. */
export function valueText(feature: Feature): string {
  switch (feature.kind) {
    case 'basic block':
      return '';
    case 'number':
    case 'offset':
    case 'operand number':
    case 'operand offset':
      return hexInteger(feature.value);
    case 'bytes':
      return bytesToHex(feature.value);
    default:
      return feature.value;
  }
}

/** The canonical key of a feature. Two features are the same exactly when their keys are equal. */
export function featureKey(feature: Feature): string {
  if (feature.kind === 'basic block') return 'basic block';
  return `${kindName(feature)}(${valueText(feature)})`;
}

/** Key of a text feature without building the object (hot path of extractors and the engine). */
export function textKey(kind: TextKind, value: string): string {
  return `${kind}(${value})`;
}

const TEXT_KIND_SET: ReadonlySet<string> = new Set(TEXT_KINDS);

export function isTextKind(kind: string): kind is TextKind {
  return TEXT_KIND_SET.has(kind);
}

function parseInteger(text: string): bigint {
  const t = text.trim();
  const m = /^(-)?(0x[0-9a-fA-F]+|\d+)$/.exec(t);
  if (!m) throw new SyntaxError(`invalid integer: ${text}`);
  const magnitude = BigInt(m[2]!);
  return m[1] ? -magnitude : magnitude;
}

/** Decodes hex text (whitespace allowed between digits). */
export function hexToBytes(text: string): Uint8Array {
  const hex = text.replace(/\s+/g, '');
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new SyntaxError(`invalid bytes: ${text}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Parses the canonical text of a feature (the inverse of `featureKey`), e.g. `number(-1)`,
 * `operand[0].offset(0x10)`, `string(key: value)`. Used by feature listings written by hand.
 */
export function parseFeature(text: string): Feature {
  const t = text.trim();
  if (t === 'basic block') return { kind: 'basic block' };
  const open = t.indexOf('(');
  if (open < 0 || !t.endsWith(')')) throw new SyntaxError(`invalid feature: ${text}`);
  const kind = t.slice(0, open);
  const value = t.slice(open + 1, -1);
  if (isTextKind(kind)) return { kind, value };
  if (kind === 'number' || kind === 'offset') return { kind, value: parseInteger(value) };
  if (kind === 'bytes') return { kind, value: hexToBytes(value) };
  const operand = /^operand\[(\d)\]\.(number|offset)$/.exec(kind);
  if (operand) {
    const index = Number(operand[1]);
    if (index > MAX_OPERAND_INDEX) throw new SyntaxError(`invalid operand index: ${text}`);
    return {
      kind: operand[2] === 'number' ? 'operand number' : 'operand offset',
      index,
      value: parseInteger(value),
    };
  }
  const property = /^property(?:\/(read|write))?$/.exec(kind);
  if (property) return { kind: 'property', access: (property[1] ?? '') as PropertyAccess, value };
  throw new SyntaxError(`unknown feature kind: ${kind}`);
}
