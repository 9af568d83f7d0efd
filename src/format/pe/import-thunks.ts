/**
 * Walking an import name table (an array of IMAGE_THUNK_DATA) next to its IAT: shared by the
 * normal and the delay-load import directories.
 */

import { normalizeModuleName, type ImportEntry } from '../image.js';
import { hex } from './anomalies.js';
import type { PeContext } from './context.js';
import { nameForOrdinal } from './ordinals.js';

/** Longest DLL name and symbol name we read (C++ decorated names run to a few KiB). */
export const MAX_DLL_NAME = 256;
export const MAX_SYMBOL_NAME = 4096;
/** At most this many thunks per module (ordinals are 16-bit). */
const MAX_THUNKS_PER_MODULE = 0x10000;

/** No real image imports from thousands of modules; a table that long has lost its terminator. */
export const MAX_IMPORT_DESCRIPTORS = 4096;

/**
 * The descriptors of an import directory (normal or delay-load) in order, each as a view of
 * `size` bytes, until the table ends unmapped or after MAX_IMPORT_DESCRIPTORS (both recorded as
 * anomalies). The caller recognises the terminator.
 */
export function* importDescriptors(
  ctx: PeContext,
  rva: number,
  size: number,
  what: string,
): Generator<{ index: number; bytes: Uint8Array; view: DataView }> {
  for (let index = 0; ; index++) {
    if (index >= MAX_IMPORT_DESCRIPTORS) {
      ctx.anomalies.add(
        `${what}: no terminating descriptor within ${MAX_IMPORT_DESCRIPTORS} entries; the rest ignored`,
      );
      return;
    }
    const at = ctx.base + rva + index * size;
    const bytes = ctx.memory.read(at, size);
    if (bytes === null) {
      ctx.anomalies.add(`${what}: descriptor ${index} at ${hex(at)} is not mapped (no terminator)`);
      return;
    }
    yield { index, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  }
}

/** Shared across all import tables of one image, so a hostile file cannot multiply the work. */
export class ImportBudget {
  remaining: number;
  exhausted = false;
  constructor(limit: number) {
    this.remaining = limit;
  }
}

export interface ThunkTable {
  /** Normalized module name. */
  readonly dll: string;
  /** VA of the name table (INT); its entries say which symbol each slot gets. */
  readonly nameTableVa: number;
  /** VA of the IAT, parallel to the name table. */
  readonly iatVa: number;
  readonly delayLoad: boolean;
  /** Turns a by-name thunk value into an RVA (identity, or minus ImageBase for old VA-based tables). */
  readonly toRva: (value: number) => number;
}

/** Reads a module name; null (with an anomaly) when unreadable. */
export function readModuleName(ctx: PeContext, va: number, what: string): string | null {
  const s = ctx.memory.readCString(va, MAX_DLL_NAME);
  if (s === null) {
    ctx.anomalies.add(`${what}: module name at ${hex(va)} is not mapped`);
    return null;
  }
  if (!s.terminated)
    ctx.anomalies.add(`${what}: module name at ${hex(va)} has no NUL within ${MAX_DLL_NAME} bytes`);
  if (s.text.length === 0) {
    ctx.anomalies.add(`${what}: empty module name at ${hex(va)}`);
    return null;
  }
  return normalizeModuleName(s.text);
}

export function walkThunks(
  ctx: PeContext,
  table: ThunkTable,
  budget: ImportBudget,
  out: ImportEntry[],
): void {
  const { memory, anomalies, base } = ctx;
  const ps = memory.pointerSize;
  const what = `${table.delayLoad ? 'delay-load ' : ''}imports of ${table.dll}`;
  for (let i = 0; ; i++) {
    if (i >= MAX_THUNKS_PER_MODULE) {
      anomalies.add(`${what}: more than ${MAX_THUNKS_PER_MODULE} entries; the rest ignored`);
      return;
    }
    if (budget.remaining <= 0) {
      if (!budget.exhausted) anomalies.add('too many import entries; the rest ignored');
      budget.exhausted = true;
      return;
    }
    budget.remaining--;

    const slotVa = table.nameTableVa + i * ps;
    let byOrdinal: boolean;
    let low: number; // the ordinal or the hint/name value (low 32 bits)
    let high = 0; // for PE32+: bits 32..62
    if (ps === 4) {
      const v = memory.readU32(slotVa);
      if (v === null) {
        anomalies.add(`${what}: name table at ${hex(table.nameTableVa)} runs into unmapped memory`);
        return;
      }
      if (v === 0) return;
      byOrdinal = (v & 0x80000000) !== 0;
      low = byOrdinal ? v & 0xffff : v;
    } else {
      const v = memory.readU64(slotVa);
      if (v === null) {
        anomalies.add(`${what}: name table at ${hex(table.nameTableVa)} runs into unmapped memory`);
        return;
      }
      if (v === 0n) return;
      byOrdinal = v >> 63n === 1n;
      low = Number(v & 0xffffffffn);
      high = Number((v >> 32n) & 0x7fffffffn);
      if (byOrdinal) low &= 0xffff;
    }
    const iatAddress = table.iatVa + i * ps;

    if (byOrdinal) {
      const name = nameForOrdinal(table.dll, low);
      out.push(
        name === undefined
          ? { dll: table.dll, ordinal: low, iatAddress, delayLoad: table.delayLoad }
          : { dll: table.dll, name, ordinal: low, iatAddress, delayLoad: table.delayLoad },
      );
      continue;
    }
    if (high !== 0) {
      anomalies.add(
        `${what}: thunk ${i} holds ${hex((BigInt(high) << 32n) | BigInt(low))}, not an RVA`,
      );
      continue;
    }
    const rva = table.toRva(low);
    const s = memory.readCString(base + rva + 2, MAX_SYMBOL_NAME);
    if (s === null) {
      anomalies.add(`${what}: name of entry ${i} at RVA ${hex(rva)} is not mapped`);
      continue;
    }
    if (!s.terminated)
      anomalies.add(`${what}: name at RVA ${hex(rva)} has no NUL within ${MAX_SYMBOL_NAME} bytes`);
    if (s.text.length === 0) {
      anomalies.add(`${what}: entry ${i} has an empty name`);
      continue;
    }
    out.push({ dll: table.dll, name: s.text, iatAddress, delayLoad: table.delayLoad });
  }
}
