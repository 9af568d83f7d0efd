/** Maps headers and sections into a `MappedMemory` the way the Windows loader lays them out. */

import { Anomalies, hex } from './anomalies.js';
import type { PeHeaders } from './headers.js';
import { MappedMemory, type MemoryRegion } from './memory-view.js';
import { SECTION_HEADER_SIZE } from './constants.js';
import { alignUp, type SectionLayout } from './sections.js';

export function mapImage(
  bytes: Uint8Array,
  headers: PeHeaders,
  layouts: readonly SectionLayout[],
  anomalies: Anomalies,
): MappedMemory {
  const regions: MemoryRegion[] = [];
  const tableEnd = headers.sectionTableOffset + headers.numberOfSections * SECTION_HEADER_SIZE;

  let headerBytes = headers.sizeOfHeaders;
  if (headerBytes < Math.min(tableEnd, bytes.length)) {
    anomalies.add(`SizeOfHeaders ${hex(headers.sizeOfHeaders)} does not cover the section table`);
    headerBytes = Math.min(tableEnd, bytes.length);
  }
  let headerSpan = alignUp(headerBytes, headers.sectionAlignment);
  const mapped = layouts.filter((l) => l.mappedSize > 0);
  if (mapped.length === 0) {
    // No sections: the loader maps the file itself as one image of SizeOfImage bytes.
    headerSpan = Math.max(headerSpan, alignUp(headers.sizeOfImage, headers.sectionAlignment));
    headerBytes = headerSpan;
  } else {
    const lowest = Math.min(...mapped.map((l) => l.rva));
    if (lowest > 0 && headerSpan > lowest) headerSpan = lowest;
  }
  const headerData = bytes.subarray(0, Math.min(headerBytes, bytes.length, headerSpan));
  regions.push({
    va: headers.imageBase,
    size: headerSpan,
    data: headerData,
    fileOffset: 0,
    section: null,
  });

  for (const l of layouts) {
    regions.push({
      va: headers.imageBase + l.rva,
      size: l.mappedSize,
      data: bytes.subarray(l.dataOffset, l.dataOffset + l.dataSize),
      fileOffset: l.dataOffset,
      section: l.section,
    });
  }
  return new MappedMemory(regions, headers.pointerSize);
}
