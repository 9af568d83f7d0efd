import type { FeatureSet } from '../features/feature-set.js';
import type { FunctionFeatures, StaticFeatures } from '../features/feature-tree.js';
import {
  compareLocations,
  formatLocation,
  NO_ADDRESS,
  type Location,
} from '../features/location.js';

/**
 * Lists features scope by scope, one per line, in the notation of capa's matcher fixtures:
 * `scope: ADDRESS: feature`, with `-> LOCATION` when the feature lies elsewhere than its
 * scope's address (a call's target, a string's file offset).
 */
function* lines(
  prefix: string,
  indent: string,
  at: Location,
  features: FeatureSet,
): Generator<string> {
  const entries: [string, Location][] = [];
  for (const key of features.keys()) {
    for (const location of features.get(key)!) entries.push([key, location]);
  }
  entries.sort((a, b) => compareLocations(a[1], b[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [key, location] of entries) {
    const where = location === at ? '' : ` -> ${formatLocation(location)}`;
    yield `${indent}${prefix}: ${formatLocation(at)}: ${key}${where}`;
  }
}

export function* listFunction(fn: FunctionFeatures): Generator<string> {
  yield `func: ${formatLocation(fn.address)}`;
  yield* lines('func', ' ', fn.address, fn.features);
  for (const bb of fn.blocks) {
    yield* lines('bb', '  ', bb.address, bb.features);
    for (const insn of bb.instructions) yield* lines('insn', '   ', insn.address, insn.features);
  }
}

/** Every feature of a program: its functions', and with `withFile` the global and file ones. */
export function* listFeatures(program: StaticFeatures, withFile: boolean): Generator<string> {
  if (withFile) {
    yield* lines('global', '', NO_ADDRESS, program.global);
    yield* lines('file', '', NO_ADDRESS, program.file);
  }
  for (const fn of program.functions) yield* listFunction(fn);
}
