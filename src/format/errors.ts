/**
 * The one error type of the `format/` stage.
 *
 * Every input that cannot become an `Image` ends in a `FormatError` whose `code` says why, and
 * whose message is one line meant for a person ("ELF file: not supported yet"). Problems that do
 * not stop parsing are not errors: they are recorded in `Image.anomalies`.
 */

/**
 * - `truncated`: the file ends inside a structure that must be read in full (headers, section table).
 * - `not-pe`: the input is not a PE image at all (no MZ, no PE signature, ELF, empty).
 * - `unsupported-arch`: a PE for a machine other than i386 / amd64.
 * - `malformed`: a PE whose headers contradict themselves beyond repair.
 */
export type FormatErrorCode = 'truncated' | 'not-pe' | 'unsupported-arch' | 'malformed';

export class FormatError extends Error {
  readonly code: FormatErrorCode;

  constructor(code: FormatErrorCode, message: string) {
    super(message);
    this.name = 'FormatError';
    this.code = code;
  }
}

export function isFormatError(e: unknown): e is FormatError {
  return e instanceof FormatError;
}
