/**
 * The TLS directory (data directory 9). AddressOfCallBacks is a VA of a NULL-terminated array of
 * callback VAs, which the loader calls before the entry point.
 */

import { hex } from './anomalies.js';
import { DIR_TLS } from './constants.js';
import { directory, type PeContext } from './context.js';

export const MAX_TLS_CALLBACKS = 256;

export function parseTlsCallbacks(ctx: PeContext): number[] {
  const dir = directory(ctx, DIR_TLS);
  const out: number[] = [];
  if (dir === null) return out;
  const { memory, anomalies, base } = ctx;
  const ps = memory.pointerSize;

  // IMAGE_TLS_DIRECTORY: StartAddressOfRawData, EndAddressOfRawData, AddressOfIndex, AddressOfCallBacks.
  const arrayVa = memory.readPointer(base + dir.rva + 3 * ps);
  if (arrayVa === null) {
    anomalies.add(`TLS directory at RVA ${hex(dir.rva)} is not mapped`);
    return out;
  }
  if (arrayVa === 0) return out;
  if (!memory.isMapped(arrayVa)) {
    anomalies.add(`TLS callback array at ${hex(arrayVa)} is not mapped`);
    return out;
  }
  const seen = new Set<number>();
  for (let i = 0; ; i++) {
    if (i >= MAX_TLS_CALLBACKS) {
      anomalies.add(`more than ${MAX_TLS_CALLBACKS} TLS callbacks; the rest ignored`);
      break;
    }
    const callback = memory.readPointer(arrayVa + i * ps);
    if (callback === null) {
      anomalies.add(`TLS callback array at ${hex(arrayVa)} has no terminator`);
      break;
    }
    if (callback === 0) break;
    if (!memory.isMapped(callback)) {
      anomalies.add(`TLS callback ${hex(callback)} is not mapped`);
      continue;
    }
    if (!seen.has(callback)) {
      seen.add(callback);
      out.push(callback);
    }
  }
  return out;
}
