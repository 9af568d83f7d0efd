import type { FeatureSet } from './feature-set.js';
import type { Location } from './location.js';

/**
 * The features of a program or a trace, scope by scope, as extractors provide them and the
 * engine consumes them. Iterables may be lazy: the engine walks them once.
 */

/** Static analysis: file, functions, basic blocks, instructions. */
export interface StaticFeatures {
  /** `os`, `arch`, `format`: present in every scope (at no address). */
  global: FeatureSet;
  file: FeatureSet;
  functions: Iterable<FunctionFeatures>;
}

export interface FunctionFeatures {
  address: Location;
  /** Features of the function itself (characteristics such as `loop`, `calls to`). */
  features: FeatureSet;
  blocks: Iterable<BlockFeatures>;
}

export interface BlockFeatures {
  address: Location;
  /** Features of the block itself (`basic block`, `tight loop`, `stack string`). */
  features: FeatureSet;
  instructions: Iterable<InstructionFeatures>;
}

export interface InstructionFeatures {
  address: Location;
  features: FeatureSet;
}

/** Dynamic analysis: file, processes, threads, calls. */
export interface DynamicFeatures {
  global: FeatureSet;
  file: FeatureSet;
  processes: Iterable<ProcessFeatures>;
}

export interface ProcessFeatures {
  address: Location;
  features: FeatureSet;
  threads: Iterable<ThreadFeatures>;
}

export interface ThreadFeatures {
  address: Location;
  features: FeatureSet;
  calls: Iterable<{ address: Location; features: FeatureSet }>;
}
