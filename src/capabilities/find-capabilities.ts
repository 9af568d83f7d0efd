import { analyze, type Program } from '../analysis/index.js';
import { matchStatic } from '../engine/static.js';
import type { Matches } from '../engine/result.js';
import type { Image } from '../format/image.js';
import { parsePe } from '../format/pe/index.js';
import type { Location } from '../features/location.js';
import { peFileFeatures, peGlobalFeatures } from '../features/pe-file.js';
import { X86FeatureExtractor } from '../features/x86-features.js';
import type { RuleSet } from '../rules/rule-set.js';
import { UnsupportedFileError } from './errors.js';

/** Milliseconds spent in each stage. */
export interface StageTimes {
  parse: number;
  analysis: number;
  features: number;
  matching: number;
}

export interface CapabilityOptions {
  /** Match rules as for this os instead of the detected one (`--os`). */
  os?: string;
  /** Only these functions, by start address (`--restrict-to-functions`). */
  functions?: readonly number[];
}

export interface FileCapabilities {
  image: Image;
  /** The os rules were matched for. */
  os: string;
  /** Addresses asked for in `functions` at which no function starts. */
  unknownFunctions: number[];
  program: Program;
  matches: Matches;
  featureCounts: { file: number; functions: Map<Location, number> };
  /** Each function's basic-block addresses. */
  functions: Map<number, number[]>;
  times: StageTimes;
}

/** Parses a PE that capa-ts can analyse; .NET assemblies are refused (UnsupportedFileError). */
export function openPe(bytes: Uint8Array): Image {
  const image = parsePe(bytes);
  if (image.dotnet) throw new UnsupportedFileError('.NET assembly: not supported yet');
  return image;
}

/**
 * The functions to analyse, as indices into `program.functions`: all of them, or those
 * starting at the `wanted` addresses (`unknown`: wanted addresses where none starts).
 */
export function selectFunctions(
  program: Program,
  wanted?: readonly number[],
): { indices: number[]; unknown: number[] } {
  const indices: number[] = [];
  const set = wanted ? new Set(wanted) : undefined;
  program.functions.forEach((fn, i) => {
    if (!set || set.has(fn.address)) indices.push(i);
  });
  const unknown = (wanted ?? []).filter((a) => program.functionAt(a) === undefined);
  return { indices, unknown };
}

/**
 * The whole static pipeline for one PE file: bytes → Image → Program → features → matches.
 * Throws FormatError for files that are not PE, UnsupportedFileError for those capa-ts cannot
 * analyse yet (.NET).
 */
export function findCapabilities(
  bytes: Uint8Array,
  ruleSet: RuleSet,
  options: CapabilityOptions = {},
): FileCapabilities {
  let t = performance.now();
  const image = openPe(bytes);
  const parse = performance.now() - t;

  t = performance.now();
  const program = analyze(image);
  const analysis = performance.now() - t;

  const os = options.os ?? image.os;
  const { indices, unknown: unknownFunctions } = selectFunctions(program, options.functions);

  t = performance.now();
  const extractor = new X86FeatureExtractor(program);
  let functionExtraction = 0;
  try {
    const global = peGlobalFeatures(image, os);
    const file = peFileFeatures(image, bytes);
    const fileExtraction = performance.now() - t;
    // features are extracted function by function as the engine asks: time them apart
    const timed = function* () {
      for (const f of indices) {
        const s = performance.now();
        const fn = extractor.functionFeatures(f);
        functionExtraction += performance.now() - s;
        yield fn;
      }
    };
    t = performance.now();
    const result = matchStatic(ruleSet, { global, file, functions: timed() });
    const total = performance.now() - t;
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
      os,
      unknownFunctions,
      program,
      matches: result.matches,
      featureCounts: result.featureCounts,
      functions,
      times: {
        parse,
        analysis,
        features: fileExtraction + functionExtraction,
        matching: total - functionExtraction,
      },
    };
  } finally {
    extractor.free();
  }
}
