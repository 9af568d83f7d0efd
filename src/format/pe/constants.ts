/** Constants of the PE/COFF format (facts from the Microsoft PE format specification). */

export const MZ_SIGNATURE = 0x5a4d; // "MZ" little-endian
export const PE_SIGNATURE = 0x00004550; // "PE\0\0" little-endian

export const OPTIONAL_MAGIC_PE32 = 0x10b;
export const OPTIONAL_MAGIC_PE32_PLUS = 0x20b;

export const MACHINE_I386 = 0x14c;
export const MACHINE_AMD64 = 0x8664;

/** Names of machines we refuse, for the error message. */
export const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0000, 'unknown'],
  [0x0184, 'Alpha'],
  [0x01a2, 'SH3'],
  [0x01a6, 'SH4'],
  [0x01a8, 'SH5'],
  [0x01c0, 'ARM'],
  [0x01c2, 'ARM Thumb'],
  [0x01c4, 'ARMv7 (Thumb-2)'],
  [0x01d3, 'AM33'],
  [0x01f0, 'PowerPC'],
  [0x01f1, 'PowerPC FP'],
  [0x0200, 'IA-64'],
  [0x0266, 'MIPS16'],
  [0x0284, 'Alpha64'],
  [0x0366, 'MIPS FPU'],
  [0x0466, 'MIPS16 FPU'],
  [0x0166, 'MIPS R4000'],
  [0x0169, 'MIPS WCE v2'],
  [0x0ebc, 'EFI byte code'],
  [0x5032, 'RISC-V 32'],
  [0x5064, 'RISC-V 64'],
  [0x5128, 'RISC-V 128'],
  [0x6232, 'LoongArch 32'],
  [0x6264, 'LoongArch 64'],
  [0x9041, 'M32R'],
  [0xa641, 'ARM64EC'],
  [0xa64e, 'ARM64X'],
  [0xaa64, 'ARM64'],
]);

/** IMAGE_FILE_* characteristics of the COFF file header. */
export const FILE_DLL = 0x2000;

/** Indices into the optional header's data directory array. */
export const DIR_EXPORT = 0;
export const DIR_IMPORT = 1;
export const DIR_RESOURCE = 2;
export const DIR_SECURITY = 4;
export const DIR_BASERELOC = 5;
export const DIR_TLS = 9;
export const DIR_DELAY_IMPORT = 13;
export const DIR_CLR = 14;
export const MAX_DATA_DIRECTORIES = 16;

/** IMAGE_SCN_* section characteristics. */
export const SCN_CNT_CODE = 0x00000020;
export const SCN_MEM_EXECUTE = 0x20000000;
export const SCN_MEM_READ = 0x40000000;
export const SCN_MEM_WRITE = 0x80000000;

/** Base relocation types. */
export const REL_BASED_ABSOLUTE = 0;

/** Sizes of fixed structures. */
export const DOS_HEADER_SIZE = 0x40;
export const FILE_HEADER_SIZE = 20;
export const SECTION_HEADER_SIZE = 40;
export const DATA_DIRECTORY_SIZE = 8;
export const IMPORT_DESCRIPTOR_SIZE = 20;
export const DELAY_DESCRIPTOR_SIZE = 32;
export const EXPORT_DIRECTORY_SIZE = 40;
export const RESOURCE_DIRECTORY_SIZE = 16;
export const RESOURCE_ENTRY_SIZE = 8;
export const RESOURCE_DATA_ENTRY_SIZE = 16;

/** Windows XP's limit; later loaders accept more, we note it as an anomaly. */
export const USUAL_MAX_SECTIONS = 96;
