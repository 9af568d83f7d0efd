import { existsSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The rule pack shipped with capa-ts (`rules/` at the package root). */
export const BUNDLED_RULES = resolve(fileURLToPath(import.meta.url), '../../../../rules');

/** Rules to use: `-r` paths, else `CAPA_TS_RULES` (a path list), else the bundled pack. */
export function rulePaths(given: string[] | undefined): string[] {
  if (given && given.length > 0) return given;
  const env = process.env.CAPA_TS_RULES;
  if (env) return env.split(delimiter).filter((p) => p !== '');
  return [BUNDLED_RULES];
}

export function missingPaths(paths: string[]): string[] {
  return paths.filter((p) => !existsSync(p));
}
