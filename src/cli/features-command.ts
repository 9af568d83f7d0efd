import { readFileSync } from 'node:fs';
import { analyze } from '../analysis/index.js';
import { openPe, selectFunctions } from '../capabilities/find-capabilities.js';
import { peFileFeatures, peGlobalFeatures } from '../features/pe-file.js';
import { X86FeatureExtractor } from '../features/x86-features.js';
import { listFeatures } from '../render/feature-listing.js';
import { parseFunctionList, refusal } from './analyze-command.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';
import { missingPaths } from './rule-paths.js';

/**
 * `capa-ts features FILE [--function ADDR...]`: every feature capa-ts extracts, scope by
 * scope with addresses — to see why a rule does or does not match. With `--function`, only
 * those functions (and only they are extracted).
 */
export function featuresCommand(file: string, functions: string[] | undefined, io: Output): number {
  if (missingPaths([file]).length > 0) {
    io.err(`capa-ts: no such file or directory: ${file}`);
    return EXIT.badArguments;
  }
  let wanted: number[] | undefined;
  try {
    wanted = functions ? parseFunctionList(functions) : undefined;
  } catch (e) {
    io.err(`capa-ts: invalid function address: ${(e as Error).message}`);
    return EXIT.badArguments;
  }
  const bytes = new Uint8Array(readFileSync(file));
  let image;
  try {
    image = openPe(bytes);
  } catch (e) {
    return refusal(file, e, io);
  }
  const program = analyze(image);
  const { indices, unknown } = selectFunctions(program, wanted);
  for (const a of unknown) io.err(`capa-ts: no function at 0x${a.toString(16)}`);
  const extractor = new X86FeatureExtractor(program);
  try {
    const listing = listFeatures(
      {
        global: peGlobalFeatures(image),
        file: peFileFeatures(image, bytes),
        functions: extractor.functions(indices),
      },
      wanted === undefined,
    );
    for (const line of listing) io.out(line);
  } finally {
    extractor.free();
  }
  return EXIT.ok;
}
