/**
 * The export directory (data directory 0). An export whose RVA points inside the export
 * directory itself is forwarded: the RVA is that of a "DLL.Symbol" string.
 */

import type { ExportEntry } from '../image.js';
import { hex } from './anomalies.js';
import { DIR_EXPORT, EXPORT_DIRECTORY_SIZE } from './constants.js';
import { directory, type PeContext } from './context.js';

/** Ordinals are 16-bit, so no table can usefully hold more entries. */
export const MAX_EXPORTS = 0x10000;
const MAX_EXPORT_NAME = 4096;
const MAX_FORWARDER = 512;

export function parseExports(ctx: PeContext): ExportEntry[] {
  const dir = directory(ctx, DIR_EXPORT);
  const out: ExportEntry[] = [];
  if (dir === null) return out;
  const { memory, anomalies, base } = ctx;
  const what = 'export directory';

  const d = memory.read(base + dir.rva, EXPORT_DIRECTORY_SIZE);
  if (d === null) {
    anomalies.add(`${what} at RVA ${hex(dir.rva)} is not mapped`);
    return out;
  }
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const ordinalBase = v.getUint32(16, true);
  let numberOfFunctions = v.getUint32(20, true);
  let numberOfNames = v.getUint32(24, true);
  const addressOfFunctions = v.getUint32(28, true);
  const addressOfNames = v.getUint32(32, true);
  const addressOfNameOrdinals = v.getUint32(36, true);

  if (numberOfFunctions > MAX_EXPORTS) {
    anomalies.add(`${what}: NumberOfFunctions ${numberOfFunctions} capped at ${MAX_EXPORTS}`);
    numberOfFunctions = MAX_EXPORTS;
  }
  if (numberOfNames > MAX_EXPORTS) {
    anomalies.add(`${what}: NumberOfNames ${numberOfNames} capped at ${MAX_EXPORTS}`);
    numberOfNames = MAX_EXPORTS;
  }

  // Function RVAs, read until the table runs out of mapped memory.
  const functions: number[] = [];
  for (let i = 0; i < numberOfFunctions; i++) {
    const rva = memory.readU32(base + addressOfFunctions + 4 * i);
    if (rva === null) {
      anomalies.add(
        `${what}: function table ends in unmapped memory after ${i} of ${numberOfFunctions} entries`,
      );
      break;
    }
    functions.push(rva);
  }

  // Names, grouped by the function index they name.
  const names = new Map<number, Set<string>>();
  for (let i = 0; i < numberOfNames; i++) {
    const nameRva = memory.readU32(base + addressOfNames + 4 * i);
    const index = memory.readU16(base + addressOfNameOrdinals + 2 * i);
    if (nameRva === null || index === null) {
      anomalies.add(
        `${what}: name tables end in unmapped memory after ${i} of ${numberOfNames} entries`,
      );
      break;
    }
    if (nameRva === 0) {
      anomalies.add(`${what}: name ${i} has RVA 0`);
      continue;
    }
    if (index >= functions.length) {
      anomalies.add(
        `${what}: name ${i} refers to function index ${index}, beyond the function table`,
      );
      continue;
    }
    const s = memory.readCString(base + nameRva, MAX_EXPORT_NAME);
    if (s === null || s.text.length === 0) {
      anomalies.add(
        `${what}: name ${i} at RVA ${hex(nameRva)} is ${s === null ? 'not mapped' : 'empty'}`,
      );
      continue;
    }
    if (!s.terminated)
      anomalies.add(
        `${what}: name at RVA ${hex(nameRva)} has no NUL within ${MAX_EXPORT_NAME} bytes`,
      );
    const set = names.get(index);
    if (set === undefined) names.set(index, new Set([s.text]));
    else set.add(s.text);
  }

  const dirEnd = dir.rva + dir.size;
  for (let index = 0; index < functions.length; index++) {
    const rva = functions[index]!;
    const symbolNames = names.get(index);
    if (rva === 0) {
      if (symbolNames !== undefined)
        anomalies.add(`${what}: named export ${JSON.stringify([...symbolNames][0])} has RVA 0`);
      continue;
    }
    const ordinal = ordinalBase + index;
    const address = base + rva;
    let forwarder: string | undefined;
    if (rva >= dir.rva && rva < dirEnd) {
      const s = memory.readCString(address, MAX_FORWARDER);
      if (s !== null && s.terminated && s.text.length > 0) forwarder = s.text;
      else
        anomalies.add(
          `${what}: forwarder string of ordinal ${ordinal} at ${hex(address)} is unreadable`,
        );
    }
    const extra = forwarder === undefined ? {} : { forwarder };
    if (symbolNames === undefined) out.push({ ordinal, address, ...extra });
    else for (const name of symbolNames) out.push({ name, ordinal, address, ...extra });
    if (out.length >= MAX_EXPORTS) {
      anomalies.add(`more than ${MAX_EXPORTS} exports; the rest ignored`);
      break;
    }
  }
  return out;
}
