/**
 * The delay-load import directory (data directory 13): ImgDelayDescr array. Descriptors with
 * attribute bit 0 (dlattrRva) hold RVAs; older (Visual C++ 6) ones hold VAs, and so do the
 * by-name entries of their name tables.
 */

import type { ImportEntry } from '../image.js';
import { hex } from './anomalies.js';
import { DELAY_DESCRIPTOR_SIZE, DIR_DELAY_IMPORT } from './constants.js';
import { directory, type PeContext } from './context.js';
import { ImportBudget, readModuleName, walkThunks } from './import-thunks.js';
import { MAX_IMPORT_DESCRIPTORS } from './imports.js';

const DLATTR_RVA = 1;

export function parseDelayImports(ctx: PeContext, budget: ImportBudget): ImportEntry[] {
  const dir = directory(ctx, DIR_DELAY_IMPORT);
  const out: ImportEntry[] = [];
  if (dir === null) return out;
  const { memory, anomalies, base } = ctx;
  const what = 'delay-load import directory';

  for (let i = 0; ; i++) {
    if (i >= MAX_IMPORT_DESCRIPTORS) {
      anomalies.add(
        `${what}: no terminating descriptor within ${MAX_IMPORT_DESCRIPTORS} entries; the rest ignored`,
      );
      break;
    }
    const at = base + dir.rva + i * DELAY_DESCRIPTOR_SIZE;
    const d = memory.read(at, DELAY_DESCRIPTOR_SIZE);
    if (d === null) {
      anomalies.add(`${what}: descriptor ${i} at ${hex(at)} is not mapped (no terminator)`);
      break;
    }
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
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
