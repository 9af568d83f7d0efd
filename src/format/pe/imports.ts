/** The import directory (data directory 1): IMAGE_IMPORT_DESCRIPTOR array, INT and IAT. */

import type { ImportEntry } from '../image.js';
import { hex } from './anomalies.js';
import { DIR_IMPORT, IMPORT_DESCRIPTOR_SIZE } from './constants.js';
import { directory, type PeContext } from './context.js';
import { ImportBudget, importDescriptors, readModuleName, walkThunks } from './import-thunks.js';

export function parseImports(ctx: PeContext, budget: ImportBudget): ImportEntry[] {
  const dir = directory(ctx, DIR_IMPORT);
  const out: ImportEntry[] = [];
  if (dir === null) return out;
  const { memory, anomalies, base } = ctx;
  const what = 'import directory';

  for (const { index: i, view: v } of importDescriptors(
    ctx,
    dir.rva,
    IMPORT_DESCRIPTOR_SIZE,
    what,
  )) {
    const originalFirstThunk = v.getUint32(0, true);
    const name = v.getUint32(12, true);
    const firstThunk = v.getUint32(16, true);
    if (name === 0 && firstThunk === 0) {
      if (originalFirstThunk !== 0 || v.getUint32(4, true) !== 0 || v.getUint32(8, true) !== 0) {
        anomalies.add(`${what}: descriptor ${i} has no name and no IAT; treated as the terminator`);
      }
      break;
    }
    if (name === 0 || firstThunk === 0) {
      anomalies.add(`${what}: descriptor ${i} lacks ${name === 0 ? 'a name' : 'an IAT'}; skipped`);
      continue;
    }
    const dll = readModuleName(ctx, base + name, what);
    if (dll === null) continue;

    let nameTable = originalFirstThunk !== 0 ? originalFirstThunk : firstThunk;
    if (originalFirstThunk !== 0 && !memory.isMapped(base + originalFirstThunk)) {
      anomalies.add(
        `${what}: import name table of ${dll} at RVA ${hex(originalFirstThunk)} is not mapped; using the IAT`,
      );
      nameTable = firstThunk;
    }
    walkThunks(
      ctx,
      {
        dll,
        nameTableVa: base + nameTable,
        iatVa: base + firstThunk,
        delayLoad: false,
        toRva: (x) => x,
      },
      budget,
      out,
    );
    if (budget.exhausted) break;
  }
  return out;
}
