import { statSync } from 'node:fs';
import { expandPaths } from '../node/expand-paths.js';
import {
  analyzeLoadedFile,
  checkAnalyzeOptions,
  loadAnalysisRules,
  type AnalyzeOptions,
} from './analyze-command.js';
import { runBatch } from './batch.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';
import { missingPaths, rulePaths } from './rule-paths.js';

/**
 * `capa-ts FILE|DIR...`: the capabilities of executables, as reports or capa's JSON. One file
 * is analysed here; several files, or a directory, in parallel on worker threads.
 */
export async function analyzePaths(
  paths: string[],
  options: AnalyzeOptions,
  jobs: number | undefined,
  argv: string[],
  io: Output,
): Promise<number> {
  const problem = checkAnalyzeOptions(options);
  if (problem) {
    io.err(`capa-ts: ${problem}`);
    return EXIT.badArguments;
  }
  const missing = missingPaths([...rulePaths(options.rules), ...paths]);
  if (missing.length > 0) {
    for (const p of missing) io.err(`capa-ts: no such file or directory: ${p}`);
    return EXIT.badArguments;
  }
  const files = expandPaths(paths);
  if (files.length === 0) {
    io.err('capa-ts: no files to analyse');
    return EXIT.badArguments;
  }
  // load once here: report rule errors once, and fill the cache before any worker reads it
  const loaded = loadAnalysisRules(options);
  for (const e of loaded.errors) io.err(`capa-ts: invalid rule: ${e.message}`);
  if (paths.length === 1 && !statSync(paths[0]!).isDirectory()) {
    return analyzeLoadedFile(files[0]!, loaded, options, argv, io);
  }
  const progress = !options.quiet && process.stderr.isTTY === true;
  return runBatch(files, { ...options, jsonLines: true, jobs, progress }, argv, io);
}
