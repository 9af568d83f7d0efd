/**
 * Function-start evidence beyond code flow, as vivisect's PE analysis gathers it: the x64
 * exception directory (`.pdata`) and the i386 function-entry byte signatures that vivisect's
 * `funcentries` pass brute-forces over code it has not reached.
 */

import type { Image } from '../format/image.js';

/** Most RUNTIME_FUNCTION entries read from one exception directory. */
const MAX_PDATA_ENTRIES = 1 << 20;
/** `UNW_FLAG_CHAININFO`: the entry describes a chunk of the function named by its chained entry. */
const UNW_FLAG_CHAININFO = 4;
/** Index of the exception directory among the optional header's data directories. */
const DIR_EXCEPTION = 3;

/**
 * Begin addresses of the RUNTIME_FUNCTION entries of an x64 PE's exception directory, ascending
 * and deduplicated, read as vivisect's PE loader reads them: in table order, stopping at the
 * first entry whose unwind info is unmapped or not version 1; entries whose unwind info chains
 * to another entry describe a chunk of a function (not its start) and are skipped. Anything
 * malformed yields fewer (or no) starts.
 */
export function pdataFunctionStarts(image: Image): number[] {
  if (image.format !== 'pe' || image.arch !== 'amd64') return [];
  const mem = image.memory;
  const base = image.baseAddress;
  const { rva, size } = image.dataDirectories[DIR_EXCEPTION] ?? { rva: 0, size: 0 };
  if (rva === 0 || size < 12) return [];
  const count = Math.min(Math.floor(size / 12), MAX_PDATA_ENTRIES);
  const table = mem.read(base + rva, count * 12);
  if (table === null) return [];
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const starts = new Set<number>();
  for (let i = 0; i < count; i++) {
    const begin = view.getUint32(i * 12, true);
    const end = view.getUint32(i * 12 + 4, true);
    const unwind = view.getUint32(i * 12 + 8, true);
    // As vivisect's PE loader does: stop at the first entry whose unwind info is unmapped or not
    // version 1 (version 2 exists, and vivisect drops the rest of the table there).
    const verFlags = mem.readU8(base + unwind);
    if (verFlags === null || (verFlags & 7) !== 1) break;
    if (((verFlags >> 3) & UNW_FLAG_CHAININFO) !== 0) continue;
    if (end <= begin) continue;
    starts.add(base + begin);
  }
  return [...starts].sort((a, b) => a - b);
}

/**
 * vivisect's i386 function-entry signatures (`vivisect/analysis/i386/__init__.py`): bytes and
 * mask (0 = any byte).
 */
const I386_SIGNATURES: readonly (readonly [readonly number[], readonly number[]])[] = [
  // push ebp; mov ebp, esp (MSVC)
  [
    [0x55, 0x8b, 0xec],
    [0xff, 0xff, 0xff],
  ],
  // push esi; mov esi, ecx (C++)
  [
    [0x56, 0x8b, 0xf1],
    [0xff, 0xff, 0xff],
  ],
  // push ebp; mov ebp, esp (GCC)
  [
    [0x55, 0x89, 0xe5],
    [0xff, 0xff, 0xff],
  ],
  // mov edi, edi; push ebp; mov ebp, esp
  [
    [0x8b, 0xff, 0x55, 0x8b, 0xec],
    [0xff, 0xff, 0xff, 0xff, 0xff],
  ],
  // push imm8; push imm32; call rel32 (MSVC SEH prologue)
  [
    [0x6a, 0x00, 0x68, 0x00, 0x00, 0x00, 0x00, 0xe8],
    [0xff, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff],
  ],
];

/** Whether `bytes[off...]` starts with one of vivisect's i386 function-entry signatures. */
export function matchesEntrySignature(bytes: Uint8Array, off: number): boolean {
  const b0 = bytes[off];
  // Every signature starts with one of these bytes: a cheap first filter.
  if (b0 !== 0x55 && b0 !== 0x56 && b0 !== 0x8b && b0 !== 0x6a) return false;
  for (const [sig, mask] of I386_SIGNATURES) {
    if (off + sig.length > bytes.length) continue;
    let ok = true;
    for (let i = 0; i < sig.length; i++) {
      if ((bytes[off + i]! & mask[i]!) !== sig[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

/** Index of the load-config directory among the optional header's data directories. */
const DIR_LOAD_CONFIG = 10;
/** Most SafeSEH handlers read from one table. */
const MAX_SEH_HANDLERS = 1 << 16;

/**
 * The SafeSEH exception handlers of a 32-bit PE (`IMAGE_LOAD_CONFIG_DIRECTORY32.SEHandlerTable`,
 * an array of `SEHandlerCount` RVAs), which vivisect's PE loader makes entry points. Anything
 * malformed yields none.
 */
export function safeSehHandlers(image: Image): number[] {
  if (image.format !== 'pe' || image.arch !== 'i386') return [];
  const mem = image.memory;
  const base = image.baseAddress;
  const rva = image.dataDirectories[DIR_LOAD_CONFIG]?.rva ?? 0;
  if (rva === 0) return [];
  const table = mem.readU32(base + rva + 0x40);
  const count = mem.readU32(base + rva + 0x44);
  if (table === null || count === null || table === 0 || count === 0) return [];
  if (count > MAX_SEH_HANDLERS) return [];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const h = mem.readU32(table + i * 4);
    if (h === null) break;
    out.push(base + h);
  }
  return out;
}
