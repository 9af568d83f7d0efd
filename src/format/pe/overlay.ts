/**
 * The overlay: file bytes past everything the headers account for. Computed as pefile does:
 * the furthest end among the optional header, each section's raw data and each data directory
 * (except the certificate table, which lives in the overlay by design).
 */

import type { Overlay } from '../image.js';
import { DIR_SECURITY } from './constants.js';
import type { PeContext } from './context.js';
import type { SectionLayout } from './sections.js';

export function findOverlay(ctx: PeContext, layouts: readonly SectionLayout[]): Overlay | null {
  const { bytes, headers, memory, base } = ctx;
  const fileSize = bytes.length;
  let end = 0;
  const consider = (offset: number, size: number): void => {
    if (offset + size <= fileSize && offset + size > end) end = offset + size;
  };
  consider(headers.optionalHeaderOffset, headers.sizeOfOptionalHeader);
  for (const l of layouts) consider(l.dataOffset, l.section.rawSize);
  headers.dataDirectories.forEach((dir, index) => {
    if (index === DIR_SECURITY || dir.rva === 0 || dir.size === 0) return;
    const offset = memory.vaToFileOffset(base + dir.rva);
    if (offset !== null) consider(offset, dir.size);
  });
  return fileSize > end ? { offset: end, size: fileSize - end } : null;
}
