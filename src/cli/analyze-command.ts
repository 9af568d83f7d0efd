import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UnsupportedFileError } from '../capabilities/errors.js';
import { findCapabilities } from '../capabilities/find-capabilities.js';
import { FormatError } from '../format/errors.js';
import { readRuleFiles } from '../node/rule-files.js';
import {
  buildResultDocument,
  RESULT_DOCUMENT_VERSION,
  stringifyJson,
} from '../render/result-document.js';
import { textReport } from '../render/text-report.js';
import { loadRules } from '../rules/load.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';
import { missingPaths, rulePaths } from './rule-paths.js';
import { VERSION } from './version.js';

export interface AnalyzeOptions {
  rules?: string[];
  json?: boolean;
  verbose?: boolean;
}

function hash(algorithm: string, bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

/** Exit code for a file that cannot be analysed, with its one-line reason printed. */
export function refusal(file: string, e: unknown, io: Output): number {
  if (e instanceof UnsupportedFileError) {
    io.err(`capa-ts: ${file}: unsupported file: ${e.message}`);
    return EXIT.unsupportedFile;
  }
  if (e instanceof FormatError) {
    const unsupported = e.code === 'not-pe' || e.code === 'unsupported-arch';
    io.err(`capa-ts: ${file}: ${unsupported ? 'unsupported' : 'corrupt'} file: ${e.message}`);
    return unsupported ? EXIT.unsupportedFile : EXIT.corruptFile;
  }
  throw e;
}

/** `capa-ts FILE`: the capabilities of one executable, as a report or capa's JSON. */
export function analyzeCommand(
  file: string,
  options: AnalyzeOptions,
  argv: string[],
  io: Output,
): number {
  const paths = rulePaths(options.rules);
  const missing = missingPaths([...paths, file]);
  if (missing.length > 0) {
    for (const p of missing) io.err(`capa-ts: no such file or directory: ${p}`);
    return EXIT.badArguments;
  }
  if (statSync(file).isDirectory()) {
    io.err(`capa-ts: ${file} is a directory: give one file`);
    return EXIT.badArguments;
  }
  const { ruleSet, errors } = loadRules(readRuleFiles(paths));
  for (const e of errors) io.err(`capa-ts: invalid rule: ${e.message}`);

  const bytes = new Uint8Array(readFileSync(file));
  let found;
  try {
    found = findCapabilities(bytes, ruleSet);
  } catch (e) {
    return refusal(file, e, io);
  }
  const sample = {
    md5: hash('md5', bytes),
    sha1: hash('sha1', bytes),
    sha256: hash('sha256', bytes),
    path: resolve(file),
  };
  const { image } = found;
  if (options.json) {
    const doc = buildResultDocument({
      version: `${RESULT_DOCUMENT_VERSION}+capa-ts.${VERSION}`,
      timestamp: new Date().toISOString(),
      argv,
      sample,
      analysis: {
        format: image.format,
        arch: image.arch,
        os: image.os,
        extractor: 'capa-ts',
        rules: paths.map((p) => resolve(p)),
        baseAddress: image.baseAddress,
        functions: found.functions,
        featureCounts: found.featureCounts,
        libraryFunctions: [],
      },
      ruleSet,
      matches: found.matches,
    });
    io.out(stringifyJson(doc, 2));
  } else {
    io.out(
      textReport(
        { ...sample, format: image.format, arch: image.arch, os: image.os },
        ruleSet,
        found.matches,
        options.verbose,
      ),
    );
  }
  return errors.length > 0 ? EXIT.invalidRules : EXIT.ok;
}
