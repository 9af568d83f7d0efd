import { existsSync } from 'node:fs';
import { readRuleFiles } from '../node/rule-files.js';
import { loadRules } from '../rules/load.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';

/**
 * `capa-ts rules check PATH...`: loads every rule under the paths and prints each error as
 * `file:line:col: message`. Exit code 0 only when every rule loads.
 */
export function rulesCheck(paths: string[], io: Output): number {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    for (const p of missing) io.err(`capa-ts: no such file or directory: ${p}`);
    return EXIT.badArguments;
  }
  const texts = readRuleFiles(paths);
  const { ruleSet, errors } = loadRules(texts);
  for (const e of errors) io.out(e.message);
  const loaded = ruleSet.namedRules.length;
  if (errors.length === 0) {
    io.err(`${loaded} rules loaded from ${texts.length} files, no errors`);
    return EXIT.ok;
  }
  io.err(`${loaded} rules loaded from ${texts.length} files, ${errors.length} with errors`);
  return EXIT.invalidRules;
}
