/** The section table, and how the loader maps each section into memory. */

import { FormatError } from '../errors.js';
import type { Section } from '../image.js';
import { Anomalies, hex } from './anomalies.js';
import {
  SCN_MEM_EXECUTE,
  SCN_MEM_READ,
  SCN_MEM_WRITE,
  SECTION_HEADER_SIZE,
  USUAL_MAX_SECTIONS,
} from './constants.js';
import type { PeHeaders } from './headers.js';
import { latin1 } from './text.js';

/** We parse at most this many section headers (the format allows 65535). */
export const MAX_SECTIONS = 1024;

/** A section header together with the loader's view of it. */
export interface SectionLayout {
  readonly section: Section;
  /** VirtualAddress as declared. */
  readonly rva: number;
  /** Bytes of address space the loader reserves: the virtual size rounded up to SectionAlignment. */
  readonly mappedSize: number;
  /** File offset the loader reads from (PointerToRawData rounded down to 512 when FileAlignment >= 512). */
  readonly dataOffset: number;
  /** File bytes mapped at the section start; the rest of `mappedSize` is zero-filled. Fits in the file. */
  readonly dataSize: number;
}

export function alignUp(value: number, alignment: number): number {
  return alignment > 0 ? Math.ceil(value / alignment) * alignment : value;
}

export function alignDown(value: number, alignment: number): number {
  return alignment > 0 ? Math.floor(value / alignment) * alignment : value;
}

export function parseSections(
  bytes: Uint8Array,
  headers: PeHeaders,
  anomalies: Anomalies,
): SectionLayout[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = headers.numberOfSections;
  let count = declared;
  if (declared > USUAL_MAX_SECTIONS) {
    anomalies.add(`NumberOfSections ${declared} is more than ${USUAL_MAX_SECTIONS}`);
  }
  if (count > MAX_SECTIONS) {
    anomalies.add(`only the first ${MAX_SECTIONS} of ${declared} section headers are parsed`);
    count = MAX_SECTIONS;
  }
  const tableStart = headers.sectionTableOffset;
  const fitting = Math.max(0, Math.floor((bytes.length - tableStart) / SECTION_HEADER_SIZE));
  if (fitting < count) {
    if (declared <= USUAL_MAX_SECTIONS) {
      throw new FormatError(
        'truncated',
        `file ends inside the section table (${declared} sections from ${hex(tableStart)}, file has ${hex(bytes.length)} bytes)`,
      );
    }
    anomalies.add(`section table runs past the end of the file; ${fitting} section headers parsed`);
    count = fitting;
  }
  if (declared === 0) anomalies.add('image has no sections');

  const layouts: SectionLayout[] = [];
  for (let i = 0; i < count; i++) {
    const at = tableStart + i * SECTION_HEADER_SIZE;
    const name = sectionName(bytes, view, at, headers, anomalies);
    const declaredVirtualSize = view.getUint32(at + 8, true);
    const rva = view.getUint32(at + 12, true);
    const rawSize = view.getUint32(at + 16, true);
    const rawOffset = view.getUint32(at + 20, true);
    const characteristics = view.getUint32(at + 36, true);

    const virtualSize = declaredVirtualSize !== 0 ? declaredVirtualSize : rawSize;
    const mappedSize = alignUp(virtualSize, headers.sectionAlignment);
    if (rva % headers.sectionAlignment !== 0 && headers.sectionAlignment >= 0x1000) {
      anomalies.add(
        `section ${JSON.stringify(name)} VirtualAddress ${hex(rva)} is not aligned to SectionAlignment`,
      );
    }
    if (
      headers.sizeOfImage !== 0 &&
      rva + mappedSize > alignUp(headers.sizeOfImage, headers.sectionAlignment)
    ) {
      anomalies.add(
        `section ${JSON.stringify(name)} extends beyond SizeOfImage ${hex(headers.sizeOfImage)}`,
      );
    }

    const dataOffset = headers.fileAlignment >= 0x200 ? alignDown(rawOffset, 0x200) : rawOffset;
    let dataSize = rawSize === 0 ? 0 : Math.min(rawSize, mappedSize);
    if (dataSize > 0 && dataOffset >= bytes.length) {
      anomalies.add(
        `section ${JSON.stringify(name)} raw data at ${hex(rawOffset)} is past the end of the file`,
      );
      dataSize = 0;
    } else if (dataOffset + dataSize > bytes.length) {
      anomalies.add(`section ${JSON.stringify(name)} raw data is cut short by the end of the file`);
      dataSize = bytes.length - dataOffset;
    }

    layouts.push({
      section: {
        name,
        va: headers.imageBase + rva,
        virtualSize,
        rawOffset,
        rawSize,
        characteristics,
        executable: (characteristics & SCN_MEM_EXECUTE) !== 0,
        readable: (characteristics & SCN_MEM_READ) !== 0,
        writable: (characteristics & SCN_MEM_WRITE) !== 0,
      },
      rva,
      mappedSize,
      dataOffset,
      dataSize,
    });
  }

  reportOverlaps(layouts, anomalies);
  return layouts;
}

/** The 8-byte name, or for "/123" names (long names of MinGW images) the COFF string-table entry. */
function sectionName(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  headers: PeHeaders,
  anomalies: Anomalies,
): string {
  let raw = latin1(bytes.subarray(at, at + 8));
  const nul = raw.indexOf('\0');
  if (nul >= 0) raw = raw.slice(0, nul);
  const long = /^\/(\d{1,7})$/.exec(raw);
  if (long && headers.pointerToSymbolTable !== 0) {
    const stringTable = headers.pointerToSymbolTable + headers.numberOfSymbols * 18;
    const offset = stringTable + Number(long[1]);
    if (
      Number.isSafeInteger(stringTable) &&
      stringTable + 4 <= bytes.length &&
      offset < bytes.length
    ) {
      const tableSize = view.getUint32(stringTable, true);
      if (Number(long[1]) < tableSize) {
        const tail = bytes.subarray(offset, Math.min(bytes.length, offset + 256));
        const end = tail.indexOf(0);
        if (end > 0) return latin1(tail.subarray(0, end));
      }
    }
    anomalies.add(`section name ${JSON.stringify(raw)} does not resolve in the COFF string table`);
  }
  return raw;
}

function reportOverlaps(layouts: readonly SectionLayout[], anomalies: Anomalies): void {
  if (layouts.length > 128) return; // quadratic; hostile tables are already flagged
  for (let i = 0; i < layouts.length; i++) {
    const a = layouts[i]!;
    for (let j = i + 1; j < layouts.length; j++) {
      const b = layouts[j]!;
      if (
        a.mappedSize > 0 &&
        b.mappedSize > 0 &&
        a.rva < b.rva + b.mappedSize &&
        b.rva < a.rva + a.mappedSize
      ) {
        anomalies.add(
          `sections ${JSON.stringify(a.section.name)} and ${JSON.stringify(b.section.name)} overlap in memory`,
        );
      }
    }
  }
}
