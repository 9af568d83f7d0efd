/**
 * DOS header, PE signature, COFF file header and optional header (PE32 and PE32+).
 * Everything here must be present in full: a file that ends inside these headers is `truncated`.
 */

import { FormatError } from '../errors.js';
import type { DataDirectory, Arch } from '../image.js';
import { Anomalies, hex } from './anomalies.js';
import {
  DATA_DIRECTORY_SIZE,
  DOS_HEADER_SIZE,
  FILE_DLL,
  FILE_HEADER_SIZE,
  MACHINE_AMD64,
  MACHINE_I386,
  MACHINE_NAMES,
  MAX_DATA_DIRECTORIES,
  MZ_SIGNATURE,
  OPTIONAL_MAGIC_PE32,
  OPTIONAL_MAGIC_PE32_PLUS,
  PE_SIGNATURE,
} from './constants.js';

export interface PeHeaders {
  /** e_lfanew: file offset of the "PE\0\0" signature. */
  readonly peOffset: number;
  readonly machine: number;
  readonly arch: Arch;
  readonly numberOfSections: number;
  readonly timestamp: number;
  readonly pointerToSymbolTable: number;
  readonly numberOfSymbols: number;
  readonly sizeOfOptionalHeader: number;
  readonly characteristics: number;
  readonly isDll: boolean;
  /** PE32+ (64-bit optional header). */
  readonly is64: boolean;
  readonly pointerSize: 4 | 8;
  /** File offset of the optional header. */
  readonly optionalHeaderOffset: number;
  readonly addressOfEntryPoint: number;
  readonly imageBase: number;
  readonly sectionAlignment: number;
  readonly fileAlignment: number;
  readonly sizeOfImage: number;
  readonly sizeOfHeaders: number;
  readonly checksum: number;
  /** Always 16 entries; those beyond NumberOfRvaAndSizes are zero. */
  readonly dataDirectories: readonly DataDirectory[];
  /** File offset of the first section header. */
  readonly sectionTableOffset: number;
}

/** Highest ImageBase we accept: every VA of a (at most 4 GiB + slack) image must stay <= 2^53. */
const MAX_IMAGE_BASE = 2 ** 53 - 2 ** 34;

function describeMachine(machine: number): string {
  const name = MACHINE_NAMES.get(machine);
  return name ? `${name} (machine ${hex(machine)})` : `machine ${hex(machine)}`;
}

export function parseHeaders(bytes: Uint8Array, anomalies: Anomalies): PeHeaders {
  const size = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  if (size === 0) throw new FormatError('not-pe', 'empty input: not a PE file');
  if (
    size >= 4 &&
    bytes[0] === 0x7f &&
    bytes[1] === 0x45 &&
    bytes[2] === 0x4c &&
    bytes[3] === 0x46
  ) {
    throw new FormatError('not-pe', 'ELF file: not supported yet');
  }
  if (size < 2 || view.getUint16(0, true) !== MZ_SIGNATURE) {
    if (size < 2 && bytes[0] === 0x4d) {
      throw new FormatError('truncated', `file of ${size} byte ends inside the DOS header`);
    }
    const start = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(
      ' ',
    );
    throw new FormatError('not-pe', `not a PE file: no MZ signature (starts with ${start})`);
  }
  if (size < DOS_HEADER_SIZE) {
    throw new FormatError('truncated', `file of ${size} bytes ends inside the DOS header`);
  }

  const peOffset = view.getUint32(0x3c, true);
  if (peOffset >= size) {
    // A DOS-only executable has garbage here; a truncated PE has a plausible offset.
    const code = peOffset < 0x10000 ? 'truncated' : 'not-pe';
    throw new FormatError(
      code,
      `e_lfanew ${hex(peOffset)} points past the end of the file (${hex(size)} bytes)`,
    );
  }
  if (peOffset + 4 > size) {
    throw new FormatError('truncated', `file ends inside the PE signature at ${hex(peOffset)}`);
  }
  if (view.getUint32(peOffset, true) !== PE_SIGNATURE) {
    throw new FormatError(
      'not-pe',
      `MZ file without a PE signature at e_lfanew ${hex(peOffset)} (DOS or other executable)`,
    );
  }
  if (peOffset < DOS_HEADER_SIZE)
    anomalies.add(`e_lfanew ${hex(peOffset)} overlaps the DOS header`);

  const fileHeader = peOffset + 4;
  if (fileHeader + FILE_HEADER_SIZE > size) {
    throw new FormatError(
      'truncated',
      `file ends inside the COFF file header at ${hex(fileHeader)}`,
    );
  }
  const machine = view.getUint16(fileHeader, true);
  let arch: Arch;
  if (machine === MACHINE_I386) arch = 'i386';
  else if (machine === MACHINE_AMD64) arch = 'amd64';
  else
    throw new FormatError(
      'unsupported-arch',
      `PE for ${describeMachine(machine)}: only i386 and amd64 are supported`,
    );

  const numberOfSections = view.getUint16(fileHeader + 2, true);
  const timestamp = view.getUint32(fileHeader + 4, true);
  const pointerToSymbolTable = view.getUint32(fileHeader + 8, true);
  const numberOfSymbols = view.getUint32(fileHeader + 12, true);
  const sizeOfOptionalHeader = view.getUint16(fileHeader + 16, true);
  const characteristics = view.getUint16(fileHeader + 18, true);

  const opt = fileHeader + FILE_HEADER_SIZE;
  if (opt + 2 > size)
    throw new FormatError('truncated', `file ends before the optional header at ${hex(opt)}`);
  const magic = view.getUint16(opt, true);
  let is64: boolean;
  if (magic === OPTIONAL_MAGIC_PE32) is64 = false;
  else if (magic === OPTIONAL_MAGIC_PE32_PLUS) is64 = true;
  else
    throw new FormatError(
      'malformed',
      `unknown optional header magic ${hex(magic)} (expected 0x10b or 0x20b)`,
    );
  if (is64 !== (arch === 'amd64')) {
    throw new FormatError(
      'malformed',
      `${arch} machine with a ${is64 ? 'PE32+' : 'PE32'} optional header: the loader refuses this combination`,
    );
  }

  // Fixed part: 96 bytes (PE32) or 112 bytes (PE32+), then the data directories.
  const fixedSize = is64 ? 112 : 96;
  if (opt + fixedSize > size) {
    throw new FormatError(
      'truncated',
      `file ends inside the optional header (needs ${hex(opt + fixedSize)} bytes, has ${hex(size)})`,
    );
  }
  const addressOfEntryPoint = view.getUint32(opt + 16, true);
  let imageBase: number;
  if (is64) {
    const base64 = view.getBigUint64(opt + 24, true);
    if (base64 > BigInt(MAX_IMAGE_BASE)) {
      throw new FormatError(
        'malformed',
        `ImageBase ${hex(base64)} is beyond the addresses we can represent (2^53)`,
      );
    }
    imageBase = Number(base64);
  } else {
    imageBase = view.getUint32(opt + 28, true);
  }
  let sectionAlignment = view.getUint32(opt + 32, true);
  let fileAlignment = view.getUint32(opt + 36, true);
  const sizeOfImage = view.getUint32(opt + 56, true);
  const sizeOfHeaders = view.getUint32(opt + 60, true);
  const checksum = view.getUint32(opt + 64, true);
  const numberOfRvaAndSizes = view.getUint32(opt + (is64 ? 108 : 92), true);

  if (imageBase % 0x10000 !== 0)
    anomalies.add(`ImageBase ${hex(imageBase)} is not a multiple of 64 KiB`);
  if (sectionAlignment === 0) {
    anomalies.add('SectionAlignment is 0; assuming 0x1000');
    sectionAlignment = 0x1000;
  }
  if (fileAlignment === 0) {
    anomalies.add('FileAlignment is 0; assuming 0x200');
    fileAlignment = 0x200;
  }
  if (!isPowerOfTwo(sectionAlignment))
    anomalies.add(`SectionAlignment ${hex(sectionAlignment)} is not a power of two`);
  if (!isPowerOfTwo(fileAlignment))
    anomalies.add(`FileAlignment ${hex(fileAlignment)} is not a power of two`);
  if (sectionAlignment < fileAlignment) {
    anomalies.add(
      `SectionAlignment ${hex(sectionAlignment)} is smaller than FileAlignment ${hex(fileAlignment)}`,
    );
  }
  if (sizeOfImage === 0) anomalies.add('SizeOfImage is 0');

  let dirCount = numberOfRvaAndSizes;
  if (dirCount > MAX_DATA_DIRECTORIES) {
    anomalies.add(`NumberOfRvaAndSizes ${hex(numberOfRvaAndSizes)} is larger than 16; using 16`);
    dirCount = MAX_DATA_DIRECTORIES;
  }
  const dirStart = opt + fixedSize;
  if (dirStart + dirCount * DATA_DIRECTORY_SIZE > size) {
    throw new FormatError(
      'truncated',
      `file ends inside the data directories of the optional header`,
    );
  }
  if (fixedSize + dirCount * DATA_DIRECTORY_SIZE > sizeOfOptionalHeader) {
    anomalies.add(
      `SizeOfOptionalHeader ${hex(sizeOfOptionalHeader)} is smaller than the header it describes (${hex(fixedSize + dirCount * DATA_DIRECTORY_SIZE)})`,
    );
  }
  const dataDirectories: DataDirectory[] = [];
  for (let i = 0; i < MAX_DATA_DIRECTORIES; i++) {
    if (i < dirCount) {
      const at = dirStart + i * DATA_DIRECTORY_SIZE;
      dataDirectories.push({ rva: view.getUint32(at, true), size: view.getUint32(at + 4, true) });
    } else {
      dataDirectories.push({ rva: 0, size: 0 });
    }
  }

  return {
    peOffset,
    machine,
    arch,
    numberOfSections,
    timestamp,
    pointerToSymbolTable,
    numberOfSymbols,
    sizeOfOptionalHeader,
    characteristics,
    isDll: (characteristics & FILE_DLL) !== 0,
    is64,
    pointerSize: is64 ? 8 : 4,
    optionalHeaderOffset: opt,
    addressOfEntryPoint,
    imageBase,
    sectionAlignment,
    fileAlignment,
    sizeOfImage,
    sizeOfHeaders,
    checksum,
    dataDirectories,
    sectionTableOffset: opt + sizeOfOptionalHeader,
  };
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isInteger(Math.log2(n));
}
