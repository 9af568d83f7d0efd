import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RuleText } from '../rules/load.js';

/**
 * Reads rule files: each path is a `.yml`/`.yaml` file or a directory searched recursively
 * (hidden entries skipped, files in a stable order). Paths in results are as given, joined.
 */
export function readRuleFiles(paths: readonly string[]): RuleText[] {
  const out: RuleText[] = [];
  for (const path of paths) {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const file of listYaml(path)) out.push({ path: file, text: readFileSync(file, 'utf8') });
    } else {
      out.push({ path, text: readFileSync(path, 'utf8') });
    }
  }
  return out;
}

function listYaml(dir: string): string[] {
  const found: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listYaml(path));
    else if (/\.ya?ml$/.test(entry.name)) found.push(path);
  }
  return found;
}
