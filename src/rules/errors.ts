import type { SourcePosition } from './ast.js';

/** A rule that cannot be loaded: where, and why. Prints as `file:line:col: message`. */
export class RuleError extends Error {
  constructor(
    readonly path: string,
    readonly position: SourcePosition | undefined,
    readonly detail: string,
  ) {
    super(
      position ? `${path}:${position.line}:${position.col}: ${detail}` : `${path}: ${detail}`,
    );
    this.name = 'RuleError';
  }
}
