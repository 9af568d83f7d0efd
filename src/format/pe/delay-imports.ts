/**
 * The delay-load import directory (data directory 13): ImgDelayDescr array. Descriptors with
 * attribute bit 0 (dlattrRva) hold RVAs; older (Visual C++ 6) ones hold VAs, and so do the
 * by-name entries of their name tables.
 */

import type { ImportEntry } from '../image.js';
import { DELAY_DESCRIPTOR_SIZE, DIR_DELAY_IMPORT } from './constants.js';
import { directory, type PeContext } from './context.js';
import { ImportBudget, importDescriptors, readModuleName, walkThunks } from './import-thunks.js';

const DLATTR_RVA = 1;

export function parseDelayImports(ctx: PeContext, budget: ImportBudget): ImportEntry[] {
  const dir = directory(ctx, DIR_DELAY_IMPORT);
  const out: ImportEntry[] = [];
  if (dir === null) return out;
  const { anomalies, base } = ctx;
  const what = 'delay-load import directory';

  for (const { index: i, bytes: d, view: v } of importDescriptors(
    ctx,
    dir.rva,
    DELAY_DESCRIPTOR_SIZE,
    what,
  )) {
    const attributes = v.getUint32(0, true);
    const dllName = v.getUint32(4, true);
    const iat = v.getUint32(12, true);
    const int = v.getUint32(16, true);
    if (dllName === 0) {
      if (d.some((b) => b !== 0))
        anomalies.add(`${what}: descriptor ${i} has no module name; treated as the terminator`);
      break;
    }
    const rvaBased = (attributes & DLATTR_RVA) !== 0;
    if (!rvaBased) anomalies.add(`${what}: descriptor ${i} uses the old VA-based layout`);
    // Old descriptors hold VAs; the 32-bit fields can only hold the low half of a 64-bit base.
    const base32 = base % 2 ** 32;
    const toRva = rvaBased ? (x: number) => x : (x: number) => (x >= base32 ? x - base32 : x);

    const dll = readModuleName(ctx, base + toRva(dllName), what);
    if (dll === null) continue;
    if (int === 0 || iat === 0) {
      anomalies.add(
        `${what}: ${dll} has no ${int === 0 ? 'name table' : 'IAT'}; its imports are unknown`,
      );
      continue;
    }
    walkThunks(
      ctx,
      { dll, nameTableVa: base + toRva(int), iatVa: base + toRva(iat), delayLoad: true, toRva },
      budget,
      out,
    );
    if (budget.exhausted) break;
  }
  return out;
}
