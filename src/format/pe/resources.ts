/**
 * The resource tree (data directory 2): IMAGE_RESOURCE_DIRECTORY nodes, normally three levels
 * (type / name / language), whose leaves are IMAGE_RESOURCE_DATA_ENTRY records. Offsets inside
 * the tree are relative to the start of the directory; data offsets are RVAs.
 * A directory reached twice (a loop, or a shared subtree) is not walked again.
 */

import type { ResourceEntry, ResourceId } from '../image.js';
import { hex } from './anomalies.js';
import {
  DIR_RESOURCE,
  RESOURCE_DATA_ENTRY_SIZE,
  RESOURCE_DIRECTORY_SIZE,
  RESOURCE_ENTRY_SIZE,
} from './constants.js';
import { directory, type PeContext } from './context.js';

export const MAX_RESOURCES = 0x10000;
/** Directory entries examined in all; bounds the work on hostile trees. */
const MAX_ENTRIES_VISITED = 0x40000;
/** Real trees are three levels deep. */
const MAX_DEPTH = 8;
/** Longest resource name we keep, in UTF-16 code units (the format allows 65535). */
const MAX_NAME_UNITS = 1024;
const HIGH_BIT = 0x80000000;

export function parseResources(ctx: PeContext): ResourceEntry[] {
  const dir = directory(ctx, DIR_RESOURCE);
  const out: ResourceEntry[] = [];
  if (dir === null) return out;
  const { memory, anomalies, base } = ctx;
  const what = 'resource directory';
  const root = base + dir.rva;
  const visited = new Set<number>();
  let entriesVisited = 0;
  let stopped = false;

  const names = new Map<number, string | null>();
  const readId = (field: number): ResourceId | null => {
    if ((field & HIGH_BIT) === 0) return field;
    const va = root + (field & 0x7fffffff);
    let name = names.get(va);
    if (name === undefined) {
      name = readName(va);
      names.set(va, name);
    }
    return name;
  };
  const readName = (va: number): string | null => {
    let length = memory.readU16(va);
    if (length === null) {
      anomalies.add(`${what}: name string at ${hex(va)} is not mapped`);
      return null;
    }
    if (length > MAX_NAME_UNITS) {
      anomalies.add(
        `${what}: name string at ${hex(va)} is ${length} characters long; cut to ${MAX_NAME_UNITS}`,
      );
      length = MAX_NAME_UNITS;
    }
    const units = memory.read(va + 2, length * 2);
    if (units === null) {
      anomalies.add(`${what}: name string at ${hex(va)} runs into unmapped memory`);
      return null;
    }
    let s = '';
    for (let i = 0; i < length; i++)
      s += String.fromCharCode(units[2 * i]! | (units[2 * i + 1]! << 8));
    return s;
  };

  const addLeaf = (path: readonly ResourceId[], offset: number): void => {
    if (out.length >= MAX_RESOURCES) {
      if (!stopped) anomalies.add(`more than ${MAX_RESOURCES} resources; the rest ignored`);
      stopped = true;
      return;
    }
    const va = root + offset;
    const d = memory.read(va, RESOURCE_DATA_ENTRY_SIZE);
    if (d === null) {
      anomalies.add(`${what}: data entry at ${hex(va)} is not mapped`);
      return;
    }
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const dataRva = v.getUint32(0, true);
    const size = v.getUint32(4, true);
    const codePage = v.getUint32(8, true);
    if (path.length !== 3)
      anomalies.add(`${what}: a resource sits at depth ${path.length} instead of 3`);
    let language = path[2] ?? 0;
    if (typeof language === 'string') {
      anomalies.add(`${what}: language ${JSON.stringify(language)} is a name, not a LANGID`);
      language = 0;
    }
    const dataVa = base + dataRva;
    if (size > 0 && memory.read(dataVa, 1) === null)
      anomalies.add(`${what}: data at ${hex(dataVa)} is not mapped`);
    out.push({
      type: path[0] ?? 0,
      name: path[1] ?? 0,
      language,
      dataVa,
      fileOffset: memory.vaToFileOffset(dataVa),
      size,
      codePage,
    });
  };

  const walk = (offset: number, path: ResourceId[]): void => {
    if (visited.has(offset)) {
      anomalies.add(
        `${what}: directory at offset ${hex(offset)} is reached twice (loop or shared subtree)`,
      );
      return;
    }
    visited.add(offset);
    if (path.length >= MAX_DEPTH) {
      anomalies.add(`${what}: tree deeper than ${MAX_DEPTH} levels`);
      return;
    }
    const va = root + offset;
    const h = memory.read(va, RESOURCE_DIRECTORY_SIZE);
    if (h === null) {
      anomalies.add(`${what}: directory at ${hex(va)} is not mapped`);
      return;
    }
    const count = (h[12]! | (h[13]! << 8)) + (h[14]! | (h[15]! << 8));
    for (let i = 0; i < count && !stopped; i++) {
      if (++entriesVisited > MAX_ENTRIES_VISITED) {
        anomalies.add(
          `${what}: more than ${MAX_ENTRIES_VISITED} directory entries; the rest ignored`,
        );
        stopped = true;
        return;
      }
      const entryVa = va + RESOURCE_DIRECTORY_SIZE + i * RESOURCE_ENTRY_SIZE;
      const nameField = memory.readU32(entryVa);
      const target = memory.readU32(entryVa + 4);
      if (nameField === null || target === null) {
        anomalies.add(`${what}: entries of directory at ${hex(va)} run into unmapped memory`);
        return;
      }
      const id = readId(nameField);
      if (id === null) continue;
      path.push(id);
      if ((target & HIGH_BIT) !== 0) walk(target & 0x7fffffff, path);
      else addLeaf(path, target);
      path.pop();
    }
  };

  walk(0, []);
  return out;
}
