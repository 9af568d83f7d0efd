import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');

/** Where `../shared` lives: `CAPA_TS_SHARED`, or `../shared` beside the repository. */
export const SHARED_DIR = resolve(process.env.CAPA_TS_SHARED ?? join(REPO_ROOT, '..', 'shared'));

/**
 * The path of a folder in the shared data, or undefined when it is absent — which skips the
 * suite that needs it, except under `CI=true`, where missing data fails the run.
 */
export function sharedPath(relative: string): string | undefined {
  const path = join(SHARED_DIR, relative);
  if (existsSync(path)) return path;
  const message = `shared data not found: ${path} (set CAPA_TS_SHARED to the folder holding capa-rules, capa-fixtures, capa-testfiles)`;
  if (process.env.CI === 'true') throw new Error(message);
  console.log(`# skipping: ${message}`);
  return undefined;
}

export { REPO_ROOT };
