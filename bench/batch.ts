/**
 * Whole-command wall times over every native PE in capa-testfiles with the full capa-rules
 * corpus: one `capa-ts` process per file versus one batch run, with a cold and a warm rule
 * cache. Part of `npm run bench` (it takes a few minutes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePe } from '../src/format/pe/index.js';

const BIN = join(fileURLToPath(import.meta.url), '../../../bin/capa-ts.js');

function nativePe(dir: string): string[] {
  const out: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    const path = join(dir, file);
    if (!statSync(path).isFile()) continue;
    const bytes = new Uint8Array(readFileSync(path));
    if (bytes[0] !== 0x4d || bytes[1] !== 0x5a) continue;
    try {
      if (!parsePe(bytes).dotnet) out.push(path);
    } catch {
      // not analysable: not part of the timing
    }
  }
  return out;
}

function run(args: string[], cache: string): number {
  const t = performance.now();
  spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, CAPA_TS_CACHE_DIR: cache },
    stdio: 'ignore',
  });
  return (performance.now() - t) / 1000;
}

export function batchBench(shared: string): void {
  const files = nativePe(join(shared, 'capa-testfiles'));
  const rules = join(shared, 'capa-rules');
  const fresh = () => mkdtempSync(join(tmpdir(), 'capa-ts-bench-cache-'));
  console.log(
    `\nwhole command over ${files.length} native PE files, full capa-rules (wall time, s)`,
  );

  const perFile = (cache: string) =>
    files.reduce((sum, f) => sum + run(['-q', '-r', rules, f], cache), 0);
  const coldDir = fresh();
  const perFileCold = files.reduce(
    (sum, f) => sum + run(['-q', '--no-cache', '-r', rules, f], coldDir),
    0,
  );
  const warmDir = fresh();
  run(['-q', '-r', rules, files[0]!], warmDir); // fills the cache
  const perFileWarm = perFile(warmDir);

  const batchDir = fresh();
  const batchCold = run(['-q', '-r', rules, ...files], batchDir);
  const batchWarm = run(['-q', '-r', rules, ...files], batchDir);
  for (const d of [coldDir, warmDir, batchDir]) rmSync(d, { recursive: true, force: true });

  console.log('  mode                          cold cache   warm cache');
  console.log(
    `  one process per file          ${perFileCold.toFixed(1).padStart(10)}   ${perFileWarm.toFixed(1).padStart(10)}`,
  );
  console.log(
    `  one batch run (all cores)     ${batchCold.toFixed(1).padStart(10)}   ${batchWarm.toFixed(1).padStart(10)}`,
  );
}
