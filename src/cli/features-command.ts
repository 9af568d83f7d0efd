import { readFileSync } from 'node:fs';
import { analyze } from '../analysis/index.js';
import { UnsupportedFileError } from '../capabilities/errors.js';
import { parsePe } from '../format/pe/index.js';
import { peFileFeatures, peGlobalFeatures } from '../features/pe-file.js';
import { X86FeatureExtractor } from '../features/x86-features.js';
import { listFeatures } from '../render/feature-listing.js';
import { EXIT } from './exit-codes.js';
import type { Output } from './output.js';
import { refusal } from './analyze-command.js';
import { missingPaths } from './rule-paths.js';

/**
 * `capa-ts features FILE [--function ADDR...]`: every feature capa-ts extracts, scope by
 * scope with addresses — to see why a rule does or does not match.
 */
export function featuresCommand(file: string, functions: string[] | undefined, io: Output): number {
  if (missingPaths([file]).length > 0) {
    io.err(`capa-ts: no such file or directory: ${file}`);
    return EXIT.badArguments;
  }
  const wanted = new Set<number>();
  for (const text of functions ?? []) {
    for (const part of text.split(',')) {
      const n = Number(part.trim());
      if (!Number.isSafeInteger(n) || n < 0) {
        io.err(`capa-ts: invalid function address: ${part}`);
        return EXIT.badArguments;
      }
      wanted.add(n);
    }
  }
  const bytes = new Uint8Array(readFileSync(file));
  let image;
  try {
    image = parsePe(bytes);
    if (image.dotnet) throw new UnsupportedFileError('.NET assembly: not supported yet');
  } catch (e) {
    return refusal(file, e, io);
  }
  const program = analyze(image);
  const extractor = new X86FeatureExtractor(program);
  try {
    for (const a of wanted) {
      if (!program.functionAt(a)) io.err(`capa-ts: no function at 0x${a.toString(16)}`);
    }
    const listing = listFeatures(
      {
        global: peGlobalFeatures(image),
        file: peFileFeatures(image, bytes),
        functions: extractor.functions(),
      },
      wanted.size > 0 ? (a) => typeof a === 'number' && wanted.has(a) : undefined,
    );
    for (const line of listing) io.out(line);
  } finally {
    extractor.free();
  }
  return EXIT.ok;
}
