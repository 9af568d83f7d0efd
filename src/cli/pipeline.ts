/**
 * The static pipeline with the analysis options of the command line: `--os` (the `os`
 * feature every scope sees) and `--restrict-to-functions` (only those functions are matched).
 * Without either, it is `findCapabilities` itself.
 *
 * TODO: once `findCapabilities` takes these options, this module reduces to a call.
 */
import { analyze } from '../analysis/index.js';
import { UnsupportedFileError } from '../capabilities/errors.js';
import { findCapabilities, type FileCapabilities } from '../capabilities/find-capabilities.js';
import { matchStatic } from '../engine/static.js';
import { textKey } from '../features/feature.js';
import { FeatureSet } from '../features/feature-set.js';
import { NO_ADDRESS } from '../features/location.js';
import { peFileFeatures } from '../features/pe-file.js';
import { X86FeatureExtractor } from '../features/x86-features.js';
import { parsePe } from '../format/pe/index.js';
import type { RuleSet } from '../rules/rule-set.js';

export interface PipelineOptions {
  /** The os to match rules against instead of the detected one. */
  os?: string;
  /** Only these functions (by start address) are analysed. */
  functions?: readonly number[];
}

export interface PipelineResult extends FileCapabilities {
  /** The os rules were matched against. */
  os: string;
  /** Addresses of `functions` that start no function. */
  unknownFunctions: number[];
}

export function runPipeline(
  bytes: Uint8Array,
  ruleSet: RuleSet,
  options: PipelineOptions = {},
): PipelineResult {
  if (options.os === undefined && options.functions === undefined) {
    const found = findCapabilities(bytes, ruleSet);
    return { ...found, os: found.image.os, unknownFunctions: [] };
  }
  let t = performance.now();
  const image = parsePe(bytes);
  if (image.dotnet) throw new UnsupportedFileError('.NET assembly: not supported yet');
  const parse = performance.now() - t;
  t = performance.now();
  const program = analyze(image);
  const analysis = performance.now() - t;

  const os = options.os ?? image.os;
  const wanted = options.functions ? new Set(options.functions) : undefined;
  const indices: number[] = [];
  program.functions.forEach((fn, i) => {
    if (!wanted || wanted.has(fn.address)) indices.push(i);
  });
  const starts = new Set(program.functions.map((fn) => fn.address));
  const unknownFunctions = (options.functions ?? []).filter((a) => !starts.has(a));

  t = performance.now();
  const extractor = new X86FeatureExtractor(program);
  try {
    const global = new FeatureSet();
    global.add(textKey('os', os), NO_ADDRESS);
    global.add(textKey('arch', image.arch), NO_ADDRESS);
    global.add(textKey('format', image.format), NO_ADDRESS);
    const file = peFileFeatures(image, bytes);
    const features = performance.now() - t;
    t = performance.now();
    const result = matchStatic(ruleSet, {
      global,
      file,
      functions: (function* () {
        for (const i of indices) yield extractor.functionFeatures(i);
      })(),
    });
    const matching = performance.now() - t;
    const functions = new Map<number, number[]>();
    for (const i of indices) {
      const fn = program.functions[i]!;
      const blocks: number[] = [];
      for (let b = fn.firstBlock; b < fn.firstBlock + fn.blockCount; b++)
        blocks.push(program.blockStart[b]!);
      functions.set(fn.address, blocks);
    }
    return {
      image,
      program,
      matches: result.matches,
      featureCounts: result.featureCounts,
      functions,
      times: { parse, analysis, features, matching },
      os,
      unknownFunctions,
    };
  } finally {
    extractor.free();
  }
}
