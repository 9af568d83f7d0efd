/**
 * Base relocations (data directory 5): blocks of { PageRVA, SizeOfBlock } followed by 16-bit
 * entries (type << 12 | offset). We keep the VA of every slot the loader would patch.
 */

import { hex } from './anomalies.js';
import { DIR_BASERELOC, REL_BASED_ABSOLUTE } from './constants.js';
import { directory, type PeContext } from './context.js';

export const MAX_RELOCATIONS = 1 << 22;
/** IMAGE_REL_BASED_HIGHADJ takes the following entry as its parameter. */
const REL_BASED_HIGHADJ = 4;

export function parseRelocations(ctx: PeContext): Set<number> {
  const dir = directory(ctx, DIR_BASERELOC);
  const out = new Set<number>();
  if (dir === null || dir.size === 0) return out;
  const { memory, anomalies, base } = ctx;
  const what = 'relocation directory';

  // Relocation data must come from the file: a directory larger than the file is mostly zero-fill.
  let dirSize = dir.size;
  if (dirSize > ctx.bytes.length) {
    anomalies.add(`${what}: size ${hex(dir.size)} is larger than the file`);
    dirSize = ctx.bytes.length;
  }
  let pos = 0;
  while (pos + 8 <= dirSize) {
    const blockVa = base + dir.rva + pos;
    const pageRva = memory.readU32(blockVa);
    const blockSize = memory.readU32(blockVa + 4);
    if (pageRva === null || blockSize === null) {
      anomalies.add(`${what}: block at ${hex(blockVa)} is not mapped`);
      break;
    }
    if (blockSize < 8) {
      if (pageRva !== 0 || blockSize !== 0)
        anomalies.add(`${what}: block at ${hex(blockVa)} has size ${blockSize}`);
      break;
    }
    let size = blockSize;
    if (pos + size > dirSize) {
      anomalies.add(`${what}: block at ${hex(blockVa)} runs past the end of the directory`);
      size = dirSize - pos;
    }
    const count = Math.floor((size - 8) / 2);
    const entries = memory.read(blockVa + 8, count * 2);
    if (entries === null) {
      anomalies.add(`${what}: entries of block at ${hex(blockVa)} are not mapped`);
      break;
    }
    for (let i = 0; i < count; i++) {
      const e = entries[2 * i]! | (entries[2 * i + 1]! << 8);
      const type = e >>> 12;
      if (type === REL_BASED_ABSOLUTE) continue;
      out.add(base + pageRva + (e & 0xfff));
      if (type === REL_BASED_HIGHADJ) i++;
    }
    if (out.size >= MAX_RELOCATIONS) {
      anomalies.add(`more than ${MAX_RELOCATIONS} relocations; the rest ignored`);
      break;
    }
    pos += blockSize;
  }
  return out;
}
