/** Exit codes of the `capa-ts` command. */
export const EXIT = {
  ok: 0,
  /** Unknown option, missing argument. */
  badArguments: 2,
  /** Some rules failed to load. */
  invalidRules: 5,
} as const;
