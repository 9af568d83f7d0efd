/**
 * A sparse view of an image's virtual memory: a few regions, each backed by a slice of the file
 * and zero-filled to its virtual size. Regions mapped later overwrite earlier ones where they
 * overlap, as sections do when a loader copies them in order. Nothing here is PE-specific.
 */

import type { MemoryView, Section } from '../image.js';
import { fromCodeUnits, latin1 } from './text.js';

export interface MemoryRegion {
  /** VA of the first byte. */
  readonly va: number;
  /** Bytes of address space, >= data.length. */
  readonly size: number;
  /** File bytes mapped at `va` (a subarray of the input, never copied). */
  readonly data: Uint8Array;
  /** File offset of `data[0]`. */
  readonly fileOffset: number;
  /** The section this region maps, or null for the headers. */
  readonly section: Section | null;
}

/** Reads longer than this return null instead of allocating (the caller asked for something absurd). */
export const MAX_READ = 256 * 1024 * 1024;

/** One non-overlapping piece of the address space and the region whose bytes show there. */
interface Piece {
  start: number;
  end: number;
  region: MemoryRegion;
  view: DataView;
}

export interface CString {
  readonly text: string;
  /** A NUL ended the string (false: cut by `max` or by the end of mapped memory). */
  readonly terminated: boolean;
}

export class MappedMemory implements MemoryView {
  readonly pointerSize: 4 | 8;
  private readonly pieces: Piece[];
  private readonly regions: readonly MemoryRegion[];
  private last: Piece | null = null;

  /** `regions` in mapping order; a later region wins where two overlap. */
  constructor(regions: readonly MemoryRegion[], pointerSize: 4 | 8) {
    this.pointerSize = pointerSize;
    this.regions = regions.filter((r) => r.size > 0);
    let pieces: Piece[] = [];
    for (const region of this.regions) {
      const start = region.va;
      const end = region.va + region.size;
      const view = new DataView(region.data.buffer, region.data.byteOffset, region.data.byteLength);
      const next: Piece[] = [];
      for (const p of pieces) {
        if (p.end <= start || p.start >= end) {
          next.push(p);
          continue;
        }
        if (p.start < start) next.push({ ...p, end: start });
        if (p.end > end) next.push({ ...p, start: end });
      }
      next.push({ start, end, region, view });
      pieces = next;
    }
    pieces.sort((a, b) => a.start - b.start);
    this.pieces = pieces;
  }

  private find(va: number): Piece | null {
    const last = this.last;
    if (last !== null && va >= last.start && va < last.end) return last;
    const pieces = this.pieces;
    let lo = 0;
    let hi = pieces.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = pieces[mid]!;
      if (va < p.start) hi = mid - 1;
      else if (va >= p.end) lo = mid + 1;
      else {
        this.last = p;
        return p;
      }
    }
    return null;
  }

  isMapped(va: number): boolean {
    return this.find(va) !== null;
  }

  sectionAt(va: number): Section | null {
    return this.find(va)?.region.section ?? null;
  }

  regionAt(va: number): { start: number; end: number } | null {
    const p = this.find(va);
    return p === null ? null : { start: p.region.va, end: p.region.va + p.region.size };
  }

  read(va: number, length: number): Uint8Array | null {
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_READ) return null;
    const first = this.find(va);
    if (first === null) return null;
    const end = va + length;
    if (end <= first.end) {
      const offset = va - first.region.va;
      const data = first.region.data;
      if (offset + length <= data.length) return data.subarray(offset, offset + length);
    }
    const out = new Uint8Array(length);
    let cur = va;
    let piece: Piece | null = first;
    while (cur < end) {
      if (piece === null || cur >= piece.end || cur < piece.start) piece = this.find(cur);
      if (piece === null) return null;
      const stop = Math.min(end, piece.end);
      const data = piece.region.data;
      const from = cur - piece.region.va;
      const to = Math.min(stop - piece.region.va, data.length);
      if (from < to) out.set(data.subarray(from, to), cur - va);
      cur = stop;
    }
    return out;
  }

  readU8(va: number): number | null {
    const p = this.find(va);
    if (p === null) return null;
    const offset = va - p.region.va;
    return offset < p.region.data.length ? p.region.data[offset]! : 0;
  }

  readU16(va: number): number | null {
    const p = this.find(va);
    if (p !== null && va + 2 <= p.end) {
      const offset = va - p.region.va;
      if (offset + 2 <= p.region.data.length) return p.view.getUint16(offset, true);
    }
    const b = this.read(va, 2);
    return b === null ? null : b[0]! | (b[1]! << 8);
  }

  readU32(va: number): number | null {
    const p = this.find(va);
    if (p !== null && va + 4 <= p.end) {
      const offset = va - p.region.va;
      if (offset + 4 <= p.region.data.length) return p.view.getUint32(offset, true);
    }
    const b = this.read(va, 4);
    return b === null ? null : (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  readU64(va: number): bigint | null {
    const p = this.find(va);
    if (p !== null && va + 8 <= p.end) {
      const offset = va - p.region.va;
      if (offset + 8 <= p.region.data.length) return p.view.getBigUint64(offset, true);
    }
    const b = this.read(va, 8);
    if (b === null) return null;
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  readPointer(va: number): number | null {
    if (this.pointerSize === 4) return this.readU32(va);
    const v = this.readU64(va);
    return v === null || v > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(v);
  }

  readAsciiZ(va: number, max: number): string | null {
    return this.readCString(va, max)?.text ?? null;
  }

  readUtf16Z(va: number, max: number): string | null {
    if (!this.isMapped(va)) return null;
    const units: number[] = [];
    const limit = Math.max(0, Math.floor(max));
    for (let i = 0; i < limit; i++) {
      const u = this.readU16(va + 2 * i);
      if (u === null || u === 0) break;
      units.push(u);
    }
    return fromCodeUnits(units);
  }

  /**
   * Bytes up to a NUL, at most `max`, as a one-char-per-byte string; null if `va` is unmapped.
   * Scans whole regions at a time, so long runs cost little.
   */
  readCString(va: number, max: number): CString | null {
    let p = this.find(va);
    if (p === null) return null;
    let text = '';
    let cur = va;
    let remaining = Math.max(0, Math.floor(max));
    while (remaining > 0) {
      if (p === null) return { text, terminated: false };
      const data = p.region.data;
      const from = cur - p.region.va;
      const stop = Math.min(p.end, cur + remaining); // exclusive VA
      const dataTo = Math.min(stop - p.region.va, data.length);
      if (from < dataTo) {
        const chunk = data.subarray(from, dataTo);
        const nul = chunk.indexOf(0);
        if (nul >= 0) return { text: text + latin1(chunk.subarray(0, nul)), terminated: true };
        text += latin1(chunk);
      }
      if (dataTo < stop - p.region.va) {
        // Zero-fill follows: that is the terminator.
        return { text, terminated: true };
      }
      remaining -= stop - cur;
      cur = stop;
      p = remaining > 0 ? this.find(cur) : null;
    }
    return { text, terminated: false };
  }

  fileOffsetToVa(offset: number): number | null {
    for (const region of this.regions) {
      const delta = offset - region.fileOffset;
      if (delta >= 0 && delta < region.data.length) {
        const va = region.va + delta;
        if (this.find(va)?.region === region) return va;
      }
    }
    return null;
  }

  vaToFileOffset(va: number): number | null {
    const p = this.find(va);
    if (p === null) return null;
    const delta = va - p.region.va;
    return delta < p.region.data.length ? p.region.fileOffset + delta : null;
  }
}
