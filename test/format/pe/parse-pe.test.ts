import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parsePe } from '../../../src/format/pe/index.js';
import type { Image } from '../../../src/format/image.js';
import {
  addDelayImports,
  addExports,
  addImports,
  addRelocations,
  addResources,
  addTls,
  DATA,
  PeBuilder,
  TEXT,
} from './pe-builder.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A DLL with every structure the parser reads, and the RVAs a test needs to check them. */
function buildSample(is64: boolean) {
  const b = new PeBuilder({ is64, dll: true });
  const text = b.addSection('.text', { characteristics: TEXT });
  const entry = b.put(text, Uint8Array.of(0x55, 0x8b, 0xec, 0x5d, 0xc3), 16);
  const callback1 = b.put(text, Uint8Array.of(0xc3), 16);
  const callback2 = b.put(text, Uint8Array.of(0xc3), 16);
  const exported = b.put(text, Uint8Array.of(0x33, 0xc0, 0xc3), 16);
  b.writeBytes(text.rva + 0xffc, Uint8Array.of(0xaa, 0xbb, 0xcc, 0xdd)); // last bytes of .text
  b.entryRva = entry;

  const rdata = b.addSection('.rdata');
  const iats = addImports(b, rdata, [
    { dll: 'KERNEL32.dll', symbols: ['CreateFileA', 'ExitProcess'] },
    { dll: 'WS2_32.dll', symbols: [{ ordinal: 1 }, 'connect'] },
    { dll: 'OLEAUT32.dll', symbols: [{ ordinal: 2 }, { ordinal: 9999 }] },
    { dll: 'Winspool.DRV', symbols: ['OpenPrinterA'] },
    { dll: 'wsock32.dll', symbols: [{ ordinal: 52 }] },
  ]);
  const delayIats = addDelayImports(b, rdata, [
    { dll: 'USER32.dll', symbols: ['MessageBoxA', { ordinal: 5 }] },
  ]);
  const wide = b.put(rdata, Uint8Array.of(0x68, 0, 0x69, 0, 0x21, 0, 0, 0), 2); // "hi!"

  const edata = b.addSection('.edata');
  const exportDir = addExports(
    b,
    edata,
    'sample.dll',
    [
      { name: 'Exported', rva: exported },
      { rva: callback1 }, // by ordinal only
      { name: 'AcquireSRWLockExclusive', forwarder: 'NTDLL.RtlAcquireSRWLockExclusive' },
      { name: 'Alias', rva: exported },
    ],
    10,
  );

  // .data: 0x200 bytes in the file, 0x2000 in memory.
  const data = b.addSection('.data', {
    characteristics: DATA,
    virtualSize: 0x2000,
    rawSize: 0x200,
  });
  b.put(data, ascii('DATA'), 4);
  addTls(b, data, [b.imageBase + callback1, b.imageBase + callback2]);
  const pointerSlot = b.reserve(data, b.ptr, 8);
  b.writePtr(pointerSlot, b.imageBase + exported);

  const rsrc = b.addSection('.rsrc');
  addResources(b, rsrc, [
    { type: 16, name: 1, language: 0x409, data: ascii('VERSIONINFO') },
    { type: 'MYTYPE', name: 'MYNAME', language: 0, data: ascii('custom') },
    { type: 10, name: 101, language: 0x407, data: ascii('rcdata-de'), codePage: 1252 },
    { type: 10, name: 101, language: 0x409, data: ascii('rcdata-en') },
  ]);

  const reloc = b.addSection('.reloc');
  const relocated = [pointerSlot, text.rva + 0x10, text.rva + 0x20, rdata.rva + 0x8];
  addRelocations(b, reloc, relocated);

  b.overlay = ascii('OVERLAY-BYTES');
  const bytes = b.build();
  return {
    b,
    bytes,
    text,
    rdata,
    data,
    rsrc,
    reloc,
    edata,
    entry,
    callback1,
    callback2,
    exported,
    iats,
    delayIats,
    wide,
    exportDir,
    relocated,
    pointerSlot,
  };
}

for (const is64 of [false, true]) {
  const label = is64 ? 'PE32+ (amd64)' : 'PE32 (i386)';
  describe(`parsePe on a builder-made ${label} DLL`, () => {
    const s = buildSample(is64);
    const base = s.b.imageBase;
    const image: Image = parsePe(s.bytes);

    it('reads the headers', () => {
      assert.equal(image.format, 'pe');
      assert.equal(image.os, 'windows');
      assert.equal(image.arch, is64 ? 'amd64' : 'i386');
      assert.equal(image.baseAddress, base);
      assert.equal(image.entryPoint, base + s.entry);
      assert.equal(image.isDll, true);
      assert.equal(image.dotnet, false);
      assert.equal(image.headerSize, 0x400);
      assert.equal(image.sizeOfImage, s.reloc.rva + 0x1000);
      assert.equal(image.timestamp, 0x5f000000);
      assert.equal(image.checksum, 0x1234);
      assert.equal(image.memory.pointerSize, is64 ? 8 : 4);
      assert.deepEqual(image.anomalies, []);
    });

    it('lists the sections with their flags', () => {
      assert.deepEqual(
        image.sections.map((x) => x.name),
        ['.text', '.rdata', '.edata', '.data', '.rsrc', '.reloc'],
      );
      const [text, rdata, , data] = image.sections;
      assert.equal(text!.va, base + 0x1000);
      assert.equal(text!.virtualSize, 0x1000);
      assert.equal(text!.rawOffset, 0x400);
      assert.equal(text!.rawSize, 0x1000);
      assert.deepEqual([text!.executable, text!.readable, text!.writable], [true, true, false]);
      assert.deepEqual([rdata!.executable, rdata!.readable, rdata!.writable], [false, true, false]);
      assert.deepEqual([data!.executable, data!.readable, data!.writable], [false, true, true]);
      assert.equal(data!.virtualSize, 0x2000);
      assert.equal(data!.rawSize, 0x200);
    });

    it('maps memory like a loader: headers, sections, zero-fill, boundaries', () => {
      const m = image.memory;
      assert.equal(m.readU16(base), 0x5a4d);
      assert.equal(m.sectionAt(base), null);
      assert.equal(m.isMapped(base - 1), false);
      assert.equal(m.sectionAt(base + s.entry)?.name, '.text');
      assert.deepEqual([...m.read(base + s.entry, 5)!], [0x55, 0x8b, 0xec, 0x5d, 0xc3]);
      // Across the .text/.rdata boundary.
      const across = m.read(base + s.text.rva + 0xffc, 8)!;
      assert.deepEqual([...across.subarray(0, 4)], [0xaa, 0xbb, 0xcc, 0xdd]);
      assert.deepEqual(across.subarray(4), s.bytes.subarray(0x400 + 0x1000, 0x400 + 0x1004));
      assert.equal(
        m.readU32(base + s.text.rva + 0xffe),
        0xddcc | (m.readU16(base + s.rdata.rva)! << 16),
      );
      // Zero-fill of .data past its raw size, still inside the section.
      const dataVa = base + s.data.rva;
      assert.deepEqual([...m.read(dataVa, 4)!], [...ascii('DATA')]);
      assert.equal(m.readU32(dataVa + 0x1000), 0);
      assert.equal(m.readU64(dataVa + 0x1ff8), 0n);
      const straddle = m.read(dataVa + 0x1fc, 8)!;
      assert.equal(straddle.length, 8);
      assert.deepEqual([...straddle.subarray(4)], [0, 0, 0, 0]);
      assert.equal(m.sectionAt(dataVa + 0x1fff)?.name, '.data');
      assert.equal(m.vaToFileOffset(dataVa + 0x300), null);
      assert.equal(m.vaToFileOffset(dataVa + 4), image.sections[3]!.rawOffset + 4);
      assert.equal(m.fileOffsetToVa(image.sections[1]!.rawOffset + 8), base + s.rdata.rva + 8);
      assert.equal(m.fileOffsetToVa(s.bytes.length - 1), null); // overlay is not mapped
      // Beyond the image.
      const end = base + image.sizeOfImage;
      assert.equal(m.isMapped(end), false);
      assert.equal(m.read(end - 2, 4), null);
      assert.equal(m.readU8(end), null);
      // Pointers and strings.
      assert.equal(m.readPointer(base + s.pointerSlot), base + s.exported);
      assert.equal(m.readUtf16Z(base + s.wide, 100), 'hi!');
      assert.equal(m.readUtf16Z(base + s.wide, 2), 'hi');
      assert.equal(m.readAsciiZ(base + 0x4e, 6), 'This p');
    });

    it('reads imports by name and by ordinal, with capa module names', () => {
      const normal = image.imports.filter((i) => !i.delayLoad);
      assert.deepEqual(
        normal.map((i) => [i.dll, i.name, i.ordinal, i.iatAddress]),
        [
          ['kernel32', 'CreateFileA', undefined, base + s.iats[0]![0]!],
          ['kernel32', 'ExitProcess', undefined, base + s.iats[0]![1]!],
          ['ws2_32', 'accept', 1, base + s.iats[1]![0]!],
          ['ws2_32', 'connect', undefined, base + s.iats[1]![1]!],
          ['oleaut32', 'SysAllocString', 2, base + s.iats[2]![0]!],
          ['oleaut32', undefined, 9999, base + s.iats[2]![1]!],
          ['winspool', 'OpenPrinterA', undefined, base + s.iats[3]![0]!],
          ['wsock32', 'gethostbyname', 52, base + s.iats[4]![0]!],
        ],
      );
    });

    it('reads delay-load imports', () => {
      const delayed = image.imports.filter((i) => i.delayLoad);
      assert.deepEqual(
        delayed.map((i) => [i.dll, i.name, i.ordinal, i.iatAddress]),
        [
          ['user32', 'MessageBoxA', undefined, base + s.delayIats[0]![0]!],
          ['user32', undefined, 5, base + s.delayIats[0]![1]!],
        ],
      );
    });

    it('reads exports, including ordinal-only, aliases and forwarders', () => {
      const byName = new Map(image.exports.filter((e) => e.name).map((e) => [e.name!, e]));
      assert.equal(byName.get('Exported')!.address, base + s.exported);
      assert.equal(byName.get('Exported')!.ordinal, 10);
      assert.equal(byName.get('Alias')!.address, base + s.exported);
      assert.equal(byName.get('Alias')!.ordinal, 13);
      const fwd = byName.get('AcquireSRWLockExclusive')!;
      assert.equal(fwd.forwarder, 'NTDLL.RtlAcquireSRWLockExclusive');
      assert.equal(fwd.ordinal, 12);
      assert.equal(image.memory.readAsciiZ(fwd.address, 100), 'NTDLL.RtlAcquireSRWLockExclusive');
      const unnamed = image.exports.filter((e) => e.name === undefined);
      assert.deepEqual(unnamed, [{ ordinal: 11, address: base + s.callback1 }]);
      assert.equal(image.exports.length, 4);
      assert.equal(byName.get('Exported')!.forwarder, undefined);
    });

    it('reads TLS callbacks', () => {
      assert.deepEqual(image.tlsCallbacks, [base + s.callback1, base + s.callback2]);
    });

    it('flattens the resource tree', () => {
      const r = image.resources.map((x) => ({
        type: x.type,
        name: x.name,
        language: x.language,
        codePage: x.codePage,
        text: new TextDecoder().decode(image.memory.read(x.dataVa, x.size)!),
        fromFile:
          x.fileOffset === null
            ? null
            : new TextDecoder().decode(s.bytes.subarray(x.fileOffset, x.fileOffset + x.size)),
      }));
      assert.deepEqual(r, [
        {
          type: 'MYTYPE',
          name: 'MYNAME',
          language: 0,
          codePage: 0,
          text: 'custom',
          fromFile: 'custom',
        },
        {
          type: 10,
          name: 101,
          language: 0x407,
          codePage: 1252,
          text: 'rcdata-de',
          fromFile: 'rcdata-de',
        },
        {
          type: 10,
          name: 101,
          language: 0x409,
          codePage: 0,
          text: 'rcdata-en',
          fromFile: 'rcdata-en',
        },
        {
          type: 16,
          name: 1,
          language: 0x409,
          codePage: 0,
          text: 'VERSIONINFO',
          fromFile: 'VERSIONINFO',
        },
      ]);
    });

    it('reads base relocations', () => {
      assert.deepEqual(
        [...image.relocations].sort((x, y) => x - y),
        s.relocated.map((r) => base + r).sort((x, y) => x - y),
      );
    });

    it('finds the overlay', () => {
      assert.deepEqual(image.overlay, { offset: s.bytes.length - 13, size: 13 });
    });
  });
}

describe('parsePe details', () => {
  it('reports no overlay when there is none and entry point null for a DLL without one', () => {
    const b = new PeBuilder({ dll: true });
    b.put(b.addSection('.text', { characteristics: TEXT }), Uint8Array.of(0xc3));
    const image = parsePe(b.build());
    assert.equal(image.overlay, null);
    assert.equal(image.entryPoint, null);
    assert.deepEqual(image.anomalies, []);
  });

  it('marks .NET images (CLR header present) without refusing them', () => {
    const b = new PeBuilder();
    const text = b.addSection('.text', { characteristics: TEXT });
    b.entryRva = b.put(text, Uint8Array.of(0xff, 0x25, 0, 0, 0, 0));
    const cor = b.reserve(text, 0x48, 4);
    b.writeU32(cor, 0x48);
    b.setDirectory(14, cor, 0x48);
    const image = parsePe(b.build());
    assert.equal(image.dotnet, true);
    assert.equal(image.arch, 'i386');
  });

  it('reads old VA-based delay-load descriptors', () => {
    const b = new PeBuilder();
    const text = b.addSection('.text', { characteristics: TEXT });
    b.entryRva = b.put(text, Uint8Array.of(0xc3));
    const rdata = b.addSection('.rdata');
    const iats = addDelayImports(
      b,
      rdata,
      [{ dll: 'ADVAPI32.DLL', symbols: ['RegOpenKeyExA', { ordinal: 7 }] }],
      true,
    );
    const image = parsePe(b.build());
    assert.deepEqual(
      image.imports.map((i) => [i.dll, i.name, i.ordinal, i.iatAddress, i.delayLoad]),
      [
        ['advapi32', 'RegOpenKeyExA', undefined, b.imageBase + iats[0]![0]!, true],
        ['advapi32', undefined, 7, b.imageBase + iats[0]![1]!, true],
      ],
    );
    assert.ok(image.anomalies.some((a) => a.includes('VA-based')));
  });

  it('tolerates overlapping sections: the later one wins in memory', () => {
    const b = new PeBuilder();
    const a = b.addSection('.a', { characteristics: TEXT });
    b.put(a, new Uint8Array(0x200).fill(0x11));
    const c = b.addSection('.b');
    b.put(c, new Uint8Array(0x200).fill(0x22));
    const bytes = b.build();
    // Move .b's VirtualAddress onto .a + 0x100.
    const dv = new DataView(bytes.buffer);
    dv.setUint32(b.sectionTableOffset + 40 + 12, a.rva + 0x100, true);
    const image = parsePe(bytes);
    const m = image.memory;
    assert.equal(m.readU8(b.imageBase + a.rva + 0xff), 0x11);
    assert.equal(m.readU8(b.imageBase + a.rva + 0x100), 0x22);
    assert.equal(m.sectionAt(b.imageBase + a.rva + 0x100)?.name, '.b');
    assert.equal(m.sectionAt(b.imageBase + a.rva)?.name, '.a');
    assert.ok(image.anomalies.some((x) => x.includes('overlap')));
  });

  it('resolves long section names through the COFF string table', () => {
    const b = new PeBuilder();
    b.put(b.addSection('/4', { characteristics: DATA }), Uint8Array.of(1));
    const table = new Uint8Array(4 + 16);
    new DataView(table.buffer).setUint32(0, table.length, true);
    table.set(ascii('.debug_info\0'), 4);
    b.overlay = table;
    const bytes = b.build();
    new DataView(bytes.buffer).setUint32(0x84 + 8, bytes.length - table.length, true); // PointerToSymbolTable
    const image = parsePe(bytes);
    assert.equal(image.sections[0]!.name, '.debug_info');
  });
});
