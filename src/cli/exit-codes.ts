/** Exit codes of the `capa-ts` command. */
export const EXIT = {
  ok: 0,
  /** Unknown option, missing argument, missing file. */
  badArguments: 2,
  /** A file capa-ts does not analyse (yet): not PE, another architecture, .NET. */
  unsupportedFile: 3,
  /** A PE file too damaged to analyse. */
  corruptFile: 4,
  /** Some rules failed to load. */
  invalidRules: 5,
  /** A bug: an exception capa-ts did not expect (a batch worker that failed). */
  internalError: 1,
} as const;
