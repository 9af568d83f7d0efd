import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RuleError } from '../rules/errors.js';
import { parseRules, type RuleText } from '../rules/load.js';
import { rulesFromJson, rulesToJson } from '../rules/serialize.js';
import { buildRuleSet, type RuleSetBuild } from '../rules/rule-set.js';

/** Bumped when the cached form of rules changes. */
const CACHE_FORMAT = 1;

/** `CAPA_TS_CACHE_DIR`, else `$XDG_CACHE_HOME/capa-ts`, else `~/.cache/capa-ts`. */
export function cacheDir(): string {
  if (process.env.CAPA_TS_CACHE_DIR) return process.env.CAPA_TS_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'capa-ts');
}

function cacheKey(texts: readonly RuleText[]): string {
  const h = createHash('sha256').update(`capa-ts rules v${CACHE_FORMAT}\0`);
  for (const t of texts) h.update(t.path).update('\0').update(t.text).update('\0');
  return h.digest('hex');
}

/**
 * Loads rules like `loadRules`, but keeps the parsed rules on disk keyed by the rule files'
 * content, so a second run with the same rules skips YAML parsing. A missing or unreadable
 * cache is rebuilt; a cache that cannot be written is only a lost speed-up.
 */
export function loadRulesCached(
  texts: readonly RuleText[],
  useCache = true,
): RuleSetBuild & { cacheHit: boolean } {
  const key = cacheKey(texts);
  const file = join(cacheDir(), `rules-${key}.json`);
  if (useCache) {
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as {
        rules: string;
        errors: [string, { line: number; col: number } | undefined, string][];
      };
      const build = buildRuleSet(rulesFromJson(cached.rules));
      const errors = cached.errors.map(
        ([path, position, detail]) => new RuleError(path, position, detail),
      );
      return { ruleSet: build.ruleSet, errors: [...errors, ...build.errors], cacheHit: true };
    } catch {
      // no cache yet, or an unreadable one: parse
    }
  }
  const { rules, errors } = parseRules(texts);
  if (useCache) {
    try {
      mkdirSync(cacheDir(), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(
        tmp,
        JSON.stringify({
          rules: rulesToJson(rules),
          errors: errors.map((e) => [e.path, e.position, e.detail]),
        }),
      );
      renameSync(tmp, file);
    } catch {
      // a read-only cache directory costs speed, not results
    }
  }
  const build = buildRuleSet(rules);
  return { ruleSet: build.ruleSet, errors: [...errors, ...build.errors], cacheHit: false };
}
