/**
 * The "decode floor": a linear sweep that decodes every byte of an image's executable sections
 * (the bytes backed by the file, as analysis sees them) once, with the same decoder analysis
 * uses; an invalid byte is skipped. The benchmark reports analysis time as a multiple of this.
 *
 * Run directly to print the floor of some files: `node dist/bench/decode-floor.js FILE...`.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { codeBytes } from '../src/analysis/index.js';
import { createDecoder } from '../src/arch/x86/index.js';
import type { Image } from '../src/format/image.js';
import { parsePe } from '../src/format/pe/index.js';

export interface DecodeFloor {
  /** Bytes of executable sections swept. */
  readonly bytes: number;
  /** Instructions decoded. */
  readonly instructions: number;
  /** Wall time of the sweep (decoder creation included). */
  readonly ms: number;
}

export function decodeFloor(image: Image): DecodeFloor {
  const bitness = image.arch === 'amd64' ? 64 : 32;
  const t0 = performance.now();
  let bytes = 0;
  let instructions = 0;
  for (const s of image.sections) {
    const size = codeBytes(s);
    if (!s.executable || size <= 0) continue;
    const code = image.memory.read(s.va, size);
    if (code === null || code.length === 0) continue;
    bytes += code.length;
    const dec = createDecoder(bitness, code, s.va);
    try {
      const end = s.va + code.length;
      let va = s.va;
      while (va < end) {
        const len = dec.next();
        if (len === 0) {
          va += 1;
          dec.seek(va);
        } else {
          va += len;
          instructions++;
        }
      }
    } finally {
      dec.free();
    }
  }
  return { bytes, instructions, ms: performance.now() - t0 };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const path of process.argv.slice(2)) {
    const image = parsePe(new Uint8Array(readFileSync(path)));
    decodeFloor(image); // warm up
    const runs = [0, 1, 2, 3, 4].map(() => decodeFloor(image));
    const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
    console.log(
      `${path}: ${best.bytes} bytes, ${best.instructions} instructions, ${best.ms.toFixed(1)} ms ` +
        `(${(best.instructions / best.ms / 1000).toFixed(1)} M instr/s)`,
    );
  }
}
