import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UnsupportedFileError } from '../capabilities/errors.js';
import { findCapabilities } from '../capabilities/find-capabilities.js';
import { FormatError } from '../format/errors.js';
import { loadRulesCached } from '../node/rule-cache.js';
import { readRuleFiles } from '../node/rule-files.js';
import {
  buildResultDocument,
  RESULT_DOCUMENT_VERSION,
  stringifyJson,
} from '../render/result-document.js';
import { styleFor } from '../render/style.js';
import { textReport } from '../render/text-report.js';
import type { RuleError } from '../rules/errors.js';
import type { RuleSet } from '../rules/rule-set.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';
import { filterRulesByTag, reportedMatches } from './rule-filter.js';
import { rulePaths } from './rule-paths.js';
import { VERSION } from './version.js';

/** Options of one analysis; plain data, so that worker threads can receive them. */
export interface AnalyzeOptions {
  rules?: string[];
  json?: boolean;
  /** `-v` (1 or true) shows every match address, `-vv` (2) every evaluation tree. */
  verbose?: boolean | number;
  /** ANSI colours in the text report (the caller decides: a terminal, `--color`). */
  color?: boolean;
  /** No output but errors. */
  quiet?: boolean;
  /** Only rules whose name, namespace or meta contain this. */
  tag?: string;
  /** Match rules as for this os instead of the detected one. */
  os?: string;
  /** The file format (`auto` or `pe`: the only one capa-ts reads). */
  format?: string;
  /** Only these functions: addresses, each `0x…` hex or decimal, comma-separated. */
  restrictToFunctions?: string[];
  /** Use the on-disk rule cache (default true). */
  cache?: boolean;
  /** JSON on one line (one document per file in batch runs). */
  jsonLines?: boolean;
}

/** The operating systems capa's `--os` accepts. */
export const OS_CHOICES = [
  'auto',
  'windows',
  'linux',
  'macos',
  'hpux',
  'android',
  'illumos',
  'netbsd',
  'freebsd',
] as const;

/** Formats `--format` accepts: capa-ts reads PE only. */
export const FORMAT_CHOICES = ['auto', 'pe'] as const;

/** Parses `--restrict-to-functions` values; throws a one-line message on a bad address. */
export function parseFunctionList(values: readonly string[]): number[] {
  const out: number[] = [];
  for (const part of values.flatMap((v) => v.split(','))) {
    const text = part.trim();
    if (text === '') continue;
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new Error(`not an address: ${text}`);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new Error(`address out of range: ${text}`);
    out.push(n);
  }
  return out;
}

/** Checks the options before any file is read; the message of the first problem, if any. */
export function checkAnalyzeOptions(options: AnalyzeOptions): string | undefined {
  if (options.os !== undefined && !(OS_CHOICES as readonly string[]).includes(options.os))
    return `--os ${options.os}: unknown os (one of ${OS_CHOICES.join(', ')})`;
  if (
    options.format !== undefined &&
    !(FORMAT_CHOICES as readonly string[]).includes(options.format)
  )
    return `--format ${options.format}: not supported (capa-ts reads ${FORMAT_CHOICES.join(', ')})`;
  if (options.restrictToFunctions) {
    try {
      if (parseFunctionList(options.restrictToFunctions).length === 0)
        return '--restrict-to-functions: no address given';
    } catch (e) {
      return `--restrict-to-functions: ${(e as Error).message}`;
    }
  }
  return undefined;
}

/** Rules ready for analysing any number of files. */
export interface LoadedRules {
  ruleSet: RuleSet;
  /** Rules that failed to load (the others are used). */
  errors: RuleError[];
  /** The rule paths, as given. */
  paths: string[];
  /** With `--tag`: the named rules to report (their dependencies are matched, not shown). */
  tagged?: ReadonlySet<string>;
}

/** Loads (and with `--tag`, filters) the rules once. The rule paths must exist. */
export function loadAnalysisRules(options: AnalyzeOptions): LoadedRules {
  const paths = rulePaths(options.rules);
  const { ruleSet, errors } = loadRulesCached(readRuleFiles(paths), options.cache !== false);
  if (options.tag === undefined) return { ruleSet, errors, paths };
  const filtered = filterRulesByTag(ruleSet, options.tag);
  return { ruleSet: filtered.ruleSet, errors, paths, tagged: filtered.tagged };
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

function verbosity(verbose: AnalyzeOptions['verbose']): 0 | 1 | 2 {
  if (verbose === true) return 1;
  if (!verbose) return 0;
  return verbose >= 2 ? 2 : 1;
}

/**
 * Analyses one file with rules already loaded and prints its report (or JSON document).
 * Rule-load errors are the caller's to print; they make the exit code `invalidRules`.
 */
export function analyzeLoadedFile(
  file: string,
  loaded: LoadedRules,
  options: AnalyzeOptions,
  argv: string[],
  io: Output,
): number {
  if (!existsSync(file)) {
    // listed, then gone
    io.err(`capa-ts: no such file or directory: ${file}`);
    return EXIT.badArguments;
  }
  const { ruleSet, paths } = loaded;
  const bytes = new Uint8Array(readFileSync(file));
  const functions = options.restrictToFunctions
    ? parseFunctionList(options.restrictToFunctions)
    : undefined;
  let found;
  try {
    found = findCapabilities(bytes, ruleSet, {
      os: options.os === undefined || options.os === 'auto' ? undefined : options.os,
      functions,
    });
  } catch (e) {
    return refusal(file, e, io);
  }
  for (const a of found.unknownFunctions)
    io.err(`capa-ts: ${file}: warning: no function starts at 0x${a.toString(16)}`);
  const code = loaded.errors.length > 0 ? EXIT.invalidRules : EXIT.ok;
  if (options.quiet) return code;

  const matches = loaded.tagged
    ? reportedMatches(ruleSet, found.matches, loaded.tagged)
    : found.matches;
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
        os: found.os,
        extractor: 'capa-ts',
        rules: paths.map((p) => resolve(p)),
        baseAddress: image.baseAddress,
        functions: found.functions,
        featureCounts: found.featureCounts,
        libraryFunctions: [],
      },
      ruleSet,
      matches,
    });
    io.out(stringifyJson(doc, options.jsonLines ? 0 : 2));
    return code;
  }
  const functionOfBlock = new Map<number, number>();
  for (const [fn, blocks] of found.functions) for (const bb of blocks) functionOfBlock.set(bb, fn);
  let featureCount = found.featureCounts.file;
  for (const n of found.featureCounts.functions.values()) featureCount += n;
  io.out(
    textReport(
      {
        ...sample,
        format: image.format,
        arch: image.arch,
        os: found.os,
        version: VERSION,
        extractor: 'capa-ts',
        baseAddress: image.baseAddress,
        rules: paths.map((p) => resolve(p)),
        functionCount: found.functions.size,
        featureCount,
      },
      ruleSet,
      matches,
      {
        verbosity: verbosity(options.verbose),
        style: styleFor(options.color ?? false),
        functionOfBlock,
      },
    ),
  );
  return code;
}
