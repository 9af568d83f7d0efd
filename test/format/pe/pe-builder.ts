/**
 * Test-only builder of small PE32 / PE32+ images in memory.
 *
 * Sections are laid out one after another (SectionAlignment 0x1000, FileAlignment 0x200); data
 * is appended into a section with `put*`, which returns its RVA. Helpers below write import,
 * delay-import, export, TLS, resource and relocation structures and set the data directory.
 */

export const PE_OFFSET = 0x80;
export const COFF_OFFSET = PE_OFFSET + 4;
export const OPTIONAL_OFFSET = COFF_OFFSET + 20;

export const SCN_CODE = 0x00000020;
export const SCN_INITIALIZED_DATA = 0x00000040;
export const SCN_EXECUTE = 0x20000000;
export const SCN_READ = 0x40000000;
export const SCN_WRITE = 0x80000000;
export const TEXT = SCN_CODE | SCN_EXECUTE | SCN_READ;
export const RDATA = SCN_INITIALIZED_DATA | SCN_READ;
export const DATA = SCN_INITIALIZED_DATA | SCN_READ | SCN_WRITE;

export interface BuilderOptions {
  is64?: boolean;
  dll?: boolean;
  imageBase?: number;
  machine?: number;
  sectionAlignment?: number;
  fileAlignment?: number;
}

export interface SectionSpec {
  /** Virtual size (default 0x1000). */
  virtualSize?: number;
  /** Raw size; default: what was written, rounded up to FileAlignment. */
  rawSize?: number;
  characteristics?: number;
  /** VirtualSize written in the header, when it should differ from `virtualSize`. */
  declaredVirtualSize?: number;
}

export class BuiltSection {
  used = 0;
  readonly content: Uint8Array;
  constructor(
    readonly name: string,
    readonly rva: number,
    readonly spec: Required<Omit<SectionSpec, 'rawSize' | 'declaredVirtualSize'>> & SectionSpec,
  ) {
    this.content = new Uint8Array(spec.virtualSize);
  }
}

const align = (v: number, a: number): number => Math.ceil(v / a) * a;

export class PeBuilder {
  readonly is64: boolean;
  readonly imageBase: number;
  readonly ptr: 4 | 8;
  readonly sectionAlignment: number;
  readonly fileAlignment: number;
  readonly sections: BuiltSection[] = [];
  readonly directories = new Map<number, { rva: number; size: number }>();
  entryRva = 0;
  overlay: Uint8Array | null = null;
  timestamp = 0x5f000000;
  private readonly dll: boolean;
  private readonly machine: number;

  constructor(options: BuilderOptions = {}) {
    this.is64 = options.is64 ?? false;
    this.ptr = this.is64 ? 8 : 4;
    this.dll = options.dll ?? false;
    this.imageBase = options.imageBase ?? (this.is64 ? 0x140000000 : 0x400000);
    this.machine = options.machine ?? (this.is64 ? 0x8664 : 0x14c);
    this.sectionAlignment = options.sectionAlignment ?? 0x1000;
    this.fileAlignment = options.fileAlignment ?? 0x200;
  }

  get optionalHeaderSize(): number {
    return this.is64 ? 240 : 224;
  }

  get sectionTableOffset(): number {
    return OPTIONAL_OFFSET + this.optionalHeaderSize;
  }

  addSection(name: string, spec: SectionSpec = {}): BuiltSection {
    const last = this.sections[this.sections.length - 1];
    const rva = last
      ? align(last.rva + last.spec.virtualSize, this.sectionAlignment)
      : align(this.headerSize(), this.sectionAlignment);
    const s = new BuiltSection(name, rva, {
      virtualSize: 0x1000,
      characteristics: RDATA,
      ...spec,
    });
    this.sections.push(s);
    return s;
  }

  /** Appends bytes to a section (aligned), returns their RVA. */
  put(section: BuiltSection, bytes: Uint8Array, alignment = 8): number {
    const at = align(section.used, alignment);
    if (at + bytes.length > section.content.length)
      throw new Error(`section ${section.name} is full`);
    section.content.set(bytes, at);
    section.used = at + bytes.length;
    return section.rva + at;
  }

  /** Reserves zeroed bytes, returns their RVA. */
  reserve(section: BuiltSection, size: number, alignment = 8): number {
    return this.put(section, new Uint8Array(size), alignment);
  }

  putAscii(section: BuiltSection, s: string, alignment = 2): number {
    const b = new Uint8Array(s.length + 1);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
    return this.put(section, b, alignment);
  }

  private locate(rva: number, size: number): { s: BuiltSection; off: number } {
    for (const s of this.sections) {
      if (rva >= s.rva && rva + size <= s.rva + s.content.length) {
        s.used = Math.max(s.used, rva - s.rva + size);
        return { s, off: rva - s.rva };
      }
    }
    throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
  }

  writeBytes(rva: number, bytes: Uint8Array): void {
    const { s, off } = this.locate(rva, bytes.length);
    s.content.set(bytes, off);
  }

  writeU16(rva: number, v: number): void {
    const { s, off } = this.locate(rva, 2);
    new DataView(s.content.buffer).setUint16(off, v, true);
  }

  writeU32(rva: number, v: number): void {
    const { s, off } = this.locate(rva, 4);
    new DataView(s.content.buffer).setUint32(off, v >>> 0, true);
  }

  writeU64(rva: number, v: bigint): void {
    const { s, off } = this.locate(rva, 8);
    new DataView(s.content.buffer).setBigUint64(off, v, true);
  }

  /** Writes an arch-sized value. */
  writePtr(rva: number, v: number | bigint): void {
    if (this.is64) this.writeU64(rva, BigInt(v));
    else this.writeU32(rva, Number(v));
  }

  setDirectory(index: number, rva: number, size: number): void {
    this.directories.set(index, { rva, size });
  }

  headerSize(): number {
    return align(
      this.sectionTableOffset + 40 * Math.max(this.sections.length, 8),
      this.fileAlignment,
    );
  }

  rawSizeOf(s: BuiltSection): number {
    return s.spec.rawSize ?? align(s.used, this.fileAlignment);
  }

  build(): Uint8Array {
    const headerSize = this.headerSize();
    let fileEnd = headerSize;
    const rawOffsets: number[] = [];
    for (const s of this.sections) {
      rawOffsets.push(fileEnd);
      fileEnd += this.rawSizeOf(s);
    }
    const overlay = this.overlay ?? new Uint8Array(0);
    const out = new Uint8Array(fileEnd + overlay.length);
    const v = new DataView(out.buffer);

    // DOS header and stub.
    out[0] = 0x4d;
    out[1] = 0x5a;
    v.setUint32(0x3c, PE_OFFSET, true);
    out.set(
      Array.from('This program cannot be run in DOS mode.', (c) => c.charCodeAt(0)),
      0x4e,
    );
    v.setUint32(PE_OFFSET, 0x00004550, true);

    // COFF file header.
    v.setUint16(COFF_OFFSET, this.machine, true);
    v.setUint16(COFF_OFFSET + 2, this.sections.length, true);
    v.setUint32(COFF_OFFSET + 4, this.timestamp, true);
    v.setUint16(COFF_OFFSET + 16, this.optionalHeaderSize, true);
    const characteristics = 0x0002 | (this.is64 ? 0x0020 : 0x0100) | (this.dll ? 0x2000 : 0);
    v.setUint16(COFF_OFFSET + 18, characteristics, true);

    // Optional header.
    const o = OPTIONAL_OFFSET;
    v.setUint16(o, this.is64 ? 0x20b : 0x10b, true);
    v.setUint32(o + 16, this.entryRva, true);
    if (this.is64) v.setBigUint64(o + 24, BigInt(this.imageBase), true);
    else v.setUint32(o + 28, this.imageBase, true);
    v.setUint32(o + 32, this.sectionAlignment, true);
    v.setUint32(o + 36, this.fileAlignment, true);
    v.setUint16(o + 40, 6, true); // OS version
    v.setUint16(o + 48, 6, true); // subsystem version
    const last = this.sections[this.sections.length - 1];
    const sizeOfImage = last
      ? align(last.rva + last.spec.virtualSize, this.sectionAlignment)
      : align(headerSize, this.sectionAlignment);
    v.setUint32(o + 56, sizeOfImage, true);
    v.setUint32(o + 60, headerSize, true);
    v.setUint32(o + 64, 0x1234, true); // checksum
    v.setUint16(o + 68, 3, true); // console
    const dirs = o + (this.is64 ? 112 : 96);
    v.setUint32(dirs - 4, 16, true);
    for (const [index, d] of this.directories) {
      v.setUint32(dirs + index * 8, d.rva, true);
      v.setUint32(dirs + index * 8 + 4, d.size, true);
    }

    // Section table and raw data.
    this.sections.forEach((s, i) => {
      const at = this.sectionTableOffset + 40 * i;
      for (let k = 0; k < Math.min(8, s.name.length); k++) out[at + k] = s.name.charCodeAt(k);
      v.setUint32(at + 8, s.spec.declaredVirtualSize ?? s.spec.virtualSize, true);
      v.setUint32(at + 12, s.rva, true);
      const raw = this.rawSizeOf(s);
      v.setUint32(at + 16, raw, true);
      v.setUint32(at + 20, raw === 0 ? 0 : rawOffsets[i]!, true);
      v.setUint32(at + 36, s.spec.characteristics >>> 0, true);
      out.set(s.content.subarray(0, Math.min(raw, s.content.length)), rawOffsets[i]!);
    });
    out.set(overlay, fileEnd);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Directory writers

export type ImportSymbol = string | { ordinal: number };
export interface ImportModule {
  dll: string;
  symbols: ImportSymbol[];
}

/** Writes an import directory; returns, per module, the RVA of each IAT slot. */
export function addImports(b: PeBuilder, sec: BuiltSection, modules: ImportModule[]): number[][] {
  const descriptors = b.reserve(sec, 20 * (modules.length + 1), 4);
  const iats: number[][] = [];
  modules.forEach((m, i) => {
    const { int, iat, slots } = writeThunks(b, sec, m.symbols);
    const name = b.putAscii(sec, m.dll);
    const d = descriptors + 20 * i;
    b.writeU32(d, int);
    b.writeU32(d + 12, name);
    b.writeU32(d + 16, iat);
    iats.push(slots);
  });
  b.setDirectory(1, descriptors, 20 * (modules.length + 1));
  return iats;
}

function writeThunks(
  b: PeBuilder,
  sec: BuiltSection,
  symbols: ImportSymbol[],
  toValue: (rva: number) => number = (x) => x,
): { int: number; iat: number; slots: number[] } {
  const size = b.ptr * (symbols.length + 1);
  const int = b.reserve(sec, size, 8);
  const iat = b.reserve(sec, size, 8);
  const slots: number[] = [];
  symbols.forEach((sym, j) => {
    let value: bigint;
    if (typeof sym === 'string') {
      const hint = b.reserve(sec, 2, 2);
      b.putAscii(sec, sym, 1);
      value = BigInt(toValue(hint));
    } else {
      value = (b.is64 ? 1n << 63n : 1n << 31n) | BigInt(sym.ordinal);
    }
    b.writePtr(int + j * b.ptr, value);
    b.writePtr(iat + j * b.ptr, value);
    slots.push(iat + j * b.ptr);
  });
  return { int, iat, slots };
}

/** Writes a delay-load import directory; `vaBased` uses the old (attributes 0) VA layout. */
export function addDelayImports(
  b: PeBuilder,
  sec: BuiltSection,
  modules: ImportModule[],
  vaBased = false,
): number[][] {
  const descriptors = b.reserve(sec, 32 * (modules.length + 1), 4);
  const toValue = vaBased ? (rva: number) => b.imageBase + rva : (rva: number) => rva;
  const iats: number[][] = [];
  modules.forEach((m, i) => {
    const { int, iat, slots } = writeThunks(b, sec, m.symbols, toValue);
    const name = b.putAscii(sec, m.dll);
    const hmod = b.reserve(sec, b.ptr, 8);
    const d = descriptors + 32 * i;
    b.writeU32(d, vaBased ? 0 : 1);
    b.writeU32(d + 4, toValue(name));
    b.writeU32(d + 8, toValue(hmod));
    b.writeU32(d + 12, toValue(iat));
    b.writeU32(d + 16, toValue(int));
    iats.push(slots);
  });
  b.setDirectory(13, descriptors, 32 * (modules.length + 1));
  return iats;
}

export type ExportSpec = { name?: string; rva: number } | { name?: string; forwarder: string };

/** Writes an export directory; names are sorted as the loader expects. Returns the directory RVA. */
export function addExports(
  b: PeBuilder,
  sec: BuiltSection,
  dllName: string,
  functions: ExportSpec[],
  ordinalBase = 1,
): number {
  const dir = b.reserve(sec, 40, 4);
  const fnTable = b.reserve(sec, 4 * functions.length, 4);
  const named = functions
    .map((f, index) => ({ name: f.name, index }))
    .filter((x): x is { name: string; index: number } => x.name !== undefined)
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const nameTable = b.reserve(sec, 4 * named.length, 4);
  const ordTable = b.reserve(sec, 2 * named.length, 2);
  const dllNameRva = b.putAscii(sec, dllName);
  named.forEach((n, i) => {
    b.writeU32(nameTable + 4 * i, b.putAscii(sec, n.name, 1));
    b.writeU16(ordTable + 2 * i, n.index);
  });
  functions.forEach((f, i) => {
    const rva = 'forwarder' in f ? b.putAscii(sec, f.forwarder, 1) : f.rva;
    b.writeU32(fnTable + 4 * i, rva);
  });
  const end = sec.rva + sec.used;
  b.writeU32(dir + 12, dllNameRva);
  b.writeU32(dir + 16, ordinalBase);
  b.writeU32(dir + 20, functions.length);
  b.writeU32(dir + 24, named.length);
  b.writeU32(dir + 28, fnTable);
  b.writeU32(dir + 32, nameTable);
  b.writeU32(dir + 36, ordTable);
  b.setDirectory(0, dir, end - dir);
  return dir;
}

/** Writes a TLS directory with the given callback VAs. */
export function addTls(b: PeBuilder, sec: BuiltSection, callbackVas: number[]): number {
  const dir = b.reserve(sec, 6 * b.ptr, 8);
  const index = b.reserve(sec, 4, 4);
  const array = b.reserve(sec, b.ptr * (callbackVas.length + 1), 8);
  callbackVas.forEach((va, i) => b.writePtr(array + i * b.ptr, va));
  b.writePtr(dir + 2 * b.ptr, b.imageBase + index);
  b.writePtr(dir + 3 * b.ptr, b.imageBase + array);
  b.setDirectory(9, dir, b.is64 ? 40 : 24);
  return dir;
}

export interface ResourceSpec {
  type: number | string;
  name: number | string;
  language: number;
  data: Uint8Array;
  codePage?: number;
}

/** Writes a three-level resource tree. Returns the directory RVA. */
export function addResources(b: PeBuilder, sec: BuiltSection, resources: ResourceSpec[]): number {
  // Group type → name → language.
  const tree = new Map<number | string, Map<number | string, ResourceSpec[]>>();
  for (const r of resources) {
    const names = tree.get(r.type) ?? new Map<number | string, ResourceSpec[]>();
    tree.set(r.type, names);
    const langs = names.get(r.name) ?? [];
    names.set(r.name, langs);
    langs.push(r);
  }
  const root = sec.rva + align(sec.used, 4); // the root directory is reserved first, 4-aligned
  const strings: { at: number; s: string }[] = [];
  const leaves: { at: number; r: ResourceSpec }[] = [];
  // Each directory: 16-byte header + 8 per entry; named entries first.
  const order = <K extends number | string>(keys: K[]): K[] => [
    ...keys.filter((k) => typeof k === 'string').sort(),
    ...keys.filter((k) => typeof k === 'number').sort((x, y) => (x as number) - (y as number)),
  ];
  const writeDir = (
    entries: { id: number | string; fill: (entryRva: number) => void }[],
  ): number => {
    const at = b.reserve(sec, 16 + 8 * entries.length, 4);
    const namedCount = entries.filter((e) => typeof e.id === 'string').length;
    b.writeU16(at + 12, namedCount);
    b.writeU16(at + 14, entries.length - namedCount);
    entries.forEach((e, i) => {
      const entry = at + 16 + 8 * i;
      if (typeof e.id === 'string') strings.push({ at: entry, s: e.id });
      else b.writeU32(entry, e.id);
      e.fill(entry);
    });
    return at;
  };
  const subdir = (entry: number, dirRva: number) =>
    b.writeU32(entry + 4, ((dirRva - root) | 0x80000000) >>> 0);
  writeDir(
    order([...tree.keys()]).map((type) => ({
      id: type,
      fill: (typeEntry) => {
        const names = tree.get(type)!;
        subdir(
          typeEntry,
          writeDir(
            order([...names.keys()]).map((name) => ({
              id: name,
              fill: (nameEntry) => {
                const langs = names.get(name)!;
                subdir(
                  nameEntry,
                  writeDir(
                    langs.map((r) => ({
                      id: r.language,
                      fill: (langEntry) => leaves.push({ at: langEntry, r }),
                    })),
                  ),
                );
              },
            })),
          ),
        );
      },
    })),
  );
  for (const { at, s } of strings) {
    const u = new Uint8Array(2 + 2 * s.length);
    u[0] = s.length & 0xff;
    u[1] = s.length >> 8;
    for (let i = 0; i < s.length; i++) {
      u[2 + 2 * i] = s.charCodeAt(i) & 0xff;
      u[3 + 2 * i] = s.charCodeAt(i) >> 8;
    }
    const rva = b.put(sec, u, 2);
    b.writeU32(at, ((rva - root) | 0x80000000) >>> 0);
  }
  for (const { at, r } of leaves) {
    const entry = b.reserve(sec, 16, 4);
    b.writeU32(at + 4, entry - root);
    const data = b.put(sec, r.data, 8);
    b.writeU32(entry, data);
    b.writeU32(entry + 4, r.data.length);
    b.writeU32(entry + 8, r.codePage ?? 0);
  }
  b.setDirectory(2, root, sec.rva + sec.used - root);
  return root;
}

/** Writes base relocations (HIGHLOW or DIR64) for the given RVAs. */
export function addRelocations(b: PeBuilder, sec: BuiltSection, rvas: number[]): number {
  const pages = new Map<number, number[]>();
  for (const rva of rvas) {
    const page = rva - (rva % 0x1000);
    const list = pages.get(page) ?? [];
    pages.set(page, list);
    list.push(rva - page);
  }
  const start = sec.rva + align(sec.used, 4);
  const type = b.is64 ? 10 : 3;
  for (const [page, offsets] of [...pages].sort((x, y) => x[0] - y[0])) {
    const padded = offsets.length % 2 === 1 ? [...offsets, -1] : offsets;
    const block = b.reserve(sec, 8 + 2 * padded.length, 4);
    b.writeU32(block, page);
    b.writeU32(block + 4, 8 + 2 * padded.length);
    padded.forEach((off, i) => b.writeU16(block + 8 + 2 * i, off < 0 ? 0 : (type << 12) | off));
  }
  b.setDirectory(5, start, sec.rva + sec.used - start);
  return start;
}
