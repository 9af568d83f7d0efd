/**
 * Evaluation trees as capa's very verbose report prints them: one line per statement or
 * feature, indented by depth, with the addresses where each feature was found. Only the
 * branches that held are shown, except under `not`, where the failed ones are what matter.
 */
import { subscopeTrees, type Matches, type Result } from '../engine/result.js';
import { bytesToHex, kindName, valueText, type Feature } from '../features/feature.js';
import { compareLocations, formatLocation, type Location } from '../features/location.js';
import type { Statement } from '../rules/ast.js';
import { PLAIN, type Style } from './style.js';

export interface TreeContext {
  /** Every match, derived subscope rules included: a subscope shows its rule's tree. */
  matches: Matches;
  style?: Style;
}

const MAX_LOCATIONS = 4;

/** ` @ 0x401000, 0x401010` — at most four, then how many more, as capa prints them. */
export function locationsText(locations: Iterable<Location>): string {
  const sorted = [...locations].sort(compareLocations);
  if (sorted.length === 0) return '';
  const shown = sorted.slice(0, MAX_LOCATIONS).map(formatLocation).join(', ');
  const more = sorted.length - MAX_LOCATIONS;
  return ` @ ${shown}${more > 0 ? `, and ${more} more...` : ''}`;
}

/** A string as capa quotes it: double quotes, escapes for quotes, backslashes and controls. */
export function quoted(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this escapes
  const escaped = s.replace(/[\\"\x00-\x1f\x7f]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  });
  return `"${escaped}"`;
}

function featureValue(feature: Feature): string {
  if (feature.kind === 'string') return quoted(feature.value);
  if (feature.kind === 'bytes') return bytesToHex(feature.value).toUpperCase();
  const text = valueText(feature);
  // numbers as capa prints them: 0x5E
  return 'value' in feature && typeof feature.value === 'bigint'
    ? text.replace(/0x([0-9a-f]+)$/, (_, h: string) => `0x${h.toUpperCase()}`)
    : text;
}

const described = (description?: string) => (description ? ` = ${description}` : '');

function rangeText(min: number, max: number): string {
  if (min === max) return `${min}`;
  if (max === Infinity) return `${min} or more`;
  if (min === 0) return `${max} or fewer`;
  return `between ${min} and ${max}`;
}

/** The line of one node, without indentation. */
function nodeLine(result: Result, style: Style, showLocations: boolean): string {
  const s = result.statement;
  const at = showLocations ? style.dim(locationsText(result.locations)) : '';
  switch (s.type) {
    case 'and':
    case 'or':
    case 'not':
      return `${s.type}:${described(s.description)}`;
    case 'some':
      return `${s.count === 0 ? 'optional' : `${s.count} or more`}:${described(s.description)}`;
    case 'range': {
      const value = s.feature.kind === 'basic block' ? '' : featureValue(s.feature);
      const inner = value ? `${kindName(s.feature)}(${style.value(value)})` : kindName(s.feature);
      return `count(${inner}): ${rangeText(s.min, s.max)}${described(s.description)}${at}`;
    }
    case 'subscope':
      return `${s.scope}:${described(s.description)}`;
    case 'feature': {
      if (s.subscope) return `${s.subscope}:${described(s.description)}`;
      const f = s.feature;
      if (f.kind === 'basic block') return `basic block${described(s.description)}${at}`;
      const value = f.kind === 'match' ? style.rule(f.value) : style.value(featureValue(f));
      const where = f.kind === 'os' || f.kind === 'arch' ? '' : at;
      return `${kindName(f)}: ${value}${described(s.description)}${where}`;
    }
    case 'substring':
      return `substring: ${style.value(quoted(s.value))}${described(s.description)}`;
    case 'regex':
      return `regex: /${s.source}/${s.flags}${described(s.description)}`;
    case 'bytes':
      return `bytes: ${style.value(bytesToHex(s.value).toUpperCase())}${described(s.description)}${at}`;
    case 'os':
      return `os: ${style.value(s.value)}${described(s.description)}`;
  }
}

const isOptional = (s: Statement) => s.type === 'some' && s.count === 0;

/**
 * The lines of an evaluation tree, `indent` levels deep (two spaces each). `success` mode
 * shows nodes that held; under a `not` the mode flips to show the nodes that failed.
 */
export function renderTree(
  result: Result,
  context: TreeContext,
  indent = 0,
  mode: 'success' | 'failure' = 'success',
): string[] {
  const style = context.style ?? PLAIN;
  const s = result.statement;
  const anyChildHeld = result.children.some((c) => c.success);
  let childMode = mode;
  if (mode === 'success') {
    if (!result.success) return [];
    if (isOptional(s) && !anyChildHeld) return [];
    if (s.type === 'not') childMode = 'failure';
  } else {
    if (result.success) return [];
    if (isOptional(s) && anyChildHeld) return [];
    if (s.type === 'not') childMode = 'success';
  }
  const pad = '  '.repeat(indent);
  const out = [pad + nodeLine(result, style, mode === 'success')];

  const derived = subscopeTrees(result, context.matches);
  if (derived) {
    // the derived rule's own tree, at each place the subscope held
    for (const tree of derived) out.push(...renderTree(tree, context, indent + 1));
    return out;
  }
  if ((s.type === 'substring' || s.type === 'regex') && mode === 'success') {
    const strings = [...(result.strings ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [value, locations] of strings) {
      out.push(`${pad}  - ${style.value(quoted(value))}${style.dim(locationsText(locations))}`);
    }
    return out;
  }
  for (const child of result.children)
    out.push(...renderTree(child, context, indent + 1, childMode));
  return out;
}
