/**
 * The platform-neutral model of a loaded executable: what every format parser produces and
 * what `analysis/` consumes. Interfaces only, plus a few tiny helpers.
 *
 * Addresses are plain `number`s holding absolute virtual addresses (VAs); parsers guarantee every
 * VA they emit is a safe integer (<= 2^53). File positions are called "offsets".
 */

export type Arch = 'i386' | 'amd64';
export type Os = 'windows';
export type ImageFormat = 'pe';

export interface Image {
  readonly format: ImageFormat;
  readonly arch: Arch;
  readonly os: Os;
  /** Preferred load address (PE: OptionalHeader.ImageBase). All VAs below assume it. */
  readonly baseAddress: number;
  /**
   * VA of the entry point, or null when AddressOfEntryPoint is 0 (DLLs without one, 64-bit .NET;
   * in a native EXE that is also recorded as an anomaly).
   */
  readonly entryPoint: number | null;
  readonly isDll: boolean;
  /** A CLR (.NET) header is present (PE data directory 14). Callers analysing native code refuse these. */
  readonly dotnet: boolean;
  /** Bytes of headers in the file (PE: SizeOfHeaders). */
  readonly headerSize: number;
  /** Size of the mapped image in bytes (PE: SizeOfImage, as declared). */
  readonly sizeOfImage: number;
  /** Link time stamp from the file header (seconds since 1970, as stored). */
  readonly timestamp: number;
  /** Checksum as stored in the optional header (not verified). */
  readonly checksum: number;
  /** Section headers in file order (at most a capped number; see anomalies). */
  readonly sections: readonly Section[];
  /** The image as a loader would map it. */
  readonly memory: MemoryView;
  /** Imported symbols, normal imports first (descriptor order), then delay-load imports. */
  readonly imports: readonly ImportEntry[];
  /** Exported symbols: one entry per exported name, plus one per function exported by ordinal only. */
  readonly exports: readonly ExportEntry[];
  /** VAs of TLS callbacks found in the file (mapped ones only). */
  readonly tlsCallbacks: readonly number[];
  /** VAs of every location the base relocations patch (type ABSOLUTE padding excluded). */
  readonly relocations: ReadonlySet<number>;
  /** The resource tree flattened to its leaves. */
  readonly resources: readonly ResourceEntry[];
  /** Bytes after the last byte the image declares (certificates included), or null. */
  readonly overlay: Overlay | null;
  /** Everything odd that parsing tolerated, one short sentence each (capped). */
  readonly anomalies: readonly string[];
  /**
   * The optional header's data directories (always 16; RVA and size as written, 0 when absent),
   * for readers of tables the parser does not interpret itself (exception, load config).
   */
  readonly dataDirectories: readonly DataDirectory[];
}

export interface Section {
  /** Name as stored (NULs stripped), or resolved from the COFF string table for "/nn" names. */
  readonly name: string;
  /** Absolute VA of the first byte. */
  readonly va: number;
  /** VirtualSize as declared (0 is replaced by the raw size, as the loader does). */
  readonly virtualSize: number;
  /** PointerToRawData as declared. */
  readonly rawOffset: number;
  /** SizeOfRawData as declared. */
  readonly rawSize: number;
  /** Characteristics flags as declared (IMAGE_SCN_*). */
  readonly characteristics: number;
  /** IMAGE_SCN_MEM_EXECUTE. (IMAGE_SCN_CNT_CODE alone does not make a section executable.) */
  readonly executable: boolean;
  /** IMAGE_SCN_MEM_READ. */
  readonly readable: boolean;
  /** IMAGE_SCN_MEM_WRITE. */
  readonly writable: boolean;
}

export interface ImportEntry {
  /** Module name lowercased, without a `.dll`/`.drv`/`.so` suffix (capa's convention: `kernel32`). */
  readonly dll: string;
  /** Symbol name; for ordinal imports of ws2_32/wsock32/oleaut32, the name from the ordinal table. */
  readonly name?: string;
  /** Ordinal, when imported by ordinal. */
  readonly ordinal?: number;
  /** VA of the IAT slot the loader fills with the symbol's address. */
  readonly iatAddress: number;
  /** From the delay-load import directory. */
  readonly delayLoad: boolean;
}

export interface ExportEntry {
  /** Exported name, absent for exports by ordinal only. */
  readonly name?: string;
  /** Biased ordinal (Base + index). */
  readonly ordinal: number;
  /** VA the export table points at: code or data, or the forwarder string for forwarded exports. */
  readonly address: number;
  /** "DLL.Symbol" or "DLL.#ordinal" when the export forwards to another module. */
  readonly forwarder?: string;
}

/** Resource identifiers are numeric IDs or UTF-16 names. */
export type ResourceId = number | string;

export interface ResourceEntry {
  /** Level 1 of the tree: RT_* number (e.g. 3 = RT_ICON, 10 = RT_RCDATA) or a name. */
  readonly type: ResourceId;
  /** Level 2: the resource's own ID or name. */
  readonly name: ResourceId;
  /** Level 3: LANGID (0 when the tree is shallower than three levels). */
  readonly language: number;
  /** VA of the data (OffsetToData is an RVA). */
  readonly dataVa: number;
  /** File offset of the data, or null when it is not backed by file bytes. */
  readonly fileOffset: number | null;
  readonly size: number;
  readonly codePage: number;
}

export interface Overlay {
  readonly offset: number;
  readonly size: number;
}

/**
 * A read-only view of virtual memory as a loader maps the image: headers at the base address,
 * each section's raw data at its VA, zero-filled up to its (aligned) virtual size. Nothing is
 * allocated for the whole image; reads that stay within one region's file bytes return subarrays
 * of the input (do not write to them).
 */
export interface MemoryView {
  /** Size in bytes of a pointer in this image (4 or 8). */
  readonly pointerSize: 4 | 8;
  isMapped(va: number): boolean;
  /** The section containing `va`, or null (headers, gaps, unmapped). */
  sectionAt(va: number): Section | null;
  /** Bounds of the mapped region (a section, or the headers) containing `va`, or null. */
  regionAt(va: number): { start: number; end: number } | null;
  /** `length` bytes at `va`, or null unless every byte is mapped. Bytes past raw data read as zero. */
  read(va: number, length: number): Uint8Array | null;
  readU8(va: number): number | null;
  readU16(va: number): number | null;
  readU32(va: number): number | null;
  readU64(va: number): bigint | null;
  /** An arch-sized pointer; null when unmapped or (64-bit) when the value exceeds 2^53. */
  readPointer(va: number): number | null;
  /** ASCII up to a NUL, at most `max` bytes, stopping at the end of mapped memory; null if `va` is unmapped. */
  readAsciiZ(va: number, max: number): string | null;
  /** UTF-16LE up to a NUL code unit, at most `max` code units; null if `va` is unmapped. */
  readUtf16Z(va: number, max: number): string | null;
  /** The VA where the byte at a file offset is mapped, or null (first mapping wins). */
  fileOffsetToVa(offset: number): number | null;
  /** The file offset backing the byte at `va`, or null (zero-fill, unmapped). */
  vaToFileOffset(va: number): number | null;
}

/** capa's module-name convention: lowercase, `.dll` / `.drv` / `.so` suffix removed. */
export function normalizeModuleName(name: string): string {
  const lower = name.toLowerCase();
  for (const suffix of ['.dll', '.drv', '.so']) {
    if (lower.endsWith(suffix)) return lower.slice(0, -suffix.length);
  }
  return lower;
}

export function pointerSizeOf(arch: Arch): 4 | 8 {
  return arch === 'amd64' ? 8 : 4;
}

/** Largest VA any parser may emit (2^53 - 1). */
export const MAX_VA = Number.MAX_SAFE_INTEGER;

export interface DataDirectory {
  readonly rva: number;
  readonly size: number;
}
