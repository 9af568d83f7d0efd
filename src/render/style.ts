/**
 * How reports emphasise text: ANSI colours on a terminal, nothing otherwise. The choice is
 * the caller's (the CLI knows whether stdout is a terminal); renderers only ask for a role.
 */
export interface Style {
  /** Rule names (capa: blue). */
  rule(text: string): string;
  /** Matched feature values and strings (capa: green). */
  value(text: string): string;
  /** Table headings. */
  heading(text: string): string;
  /** Addresses and other secondary detail. */
  dim(text: string): string;
}

const identity = (text: string) => text;

export const PLAIN: Style = { rule: identity, value: identity, heading: identity, dim: identity };

const sgr = (code: string) => (text: string) => (text ? `\x1b[${code}m${text}\x1b[0m` : text);

export const ANSI: Style = {
  rule: sgr('34'),
  value: sgr('32'),
  heading: sgr('1'),
  dim: sgr('2'),
};

export function styleFor(color: boolean): Style {
  return color ? ANSI : PLAIN;
}
