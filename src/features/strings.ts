/**
 * Printable strings in raw bytes, as capa finds them: runs of at least four ASCII characters
 * (printable or tab), and runs of at least four such characters each followed by a zero byte
 * (UTF-16LE).
 */

export const MIN_STRING_LENGTH = 4;

export interface FoundString {
  /** Offset of the first byte in the buffer. */
  offset: number;
  value: string;
}

/** A printable ASCII byte or a tab: what strings in binaries are made of. */
export function isAsciiByte(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || b === 0x09;
}

export function* asciiStrings(bytes: Uint8Array, min = MIN_STRING_LENGTH): Generator<FoundString> {
  let start = -1;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && isAsciiByte(bytes[i]!)) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= min) {
      let value = '';
      for (let j = start; j < i; j++) value += String.fromCharCode(bytes[j]!);
      yield { offset: start, value };
    }
    start = -1;
  }
}

export function* utf16Strings(bytes: Uint8Array, min = MIN_STRING_LENGTH): Generator<FoundString> {
  // two passes, one per byte alignment, as a regex search over the buffer would find them
  for (let align = 0; align < 2; align++) {
    let start = -1;
    for (let i = align; i <= bytes.length; i += 2) {
      const ok = i + 1 < bytes.length && isAsciiByte(bytes[i]!) && bytes[i + 1] === 0;
      if (ok) {
        if (start < 0) start = i;
        continue;
      }
      if (start >= 0 && (i - start) / 2 >= min) {
        let value = '';
        for (let j = start; j < i; j += 2) value += String.fromCharCode(bytes[j]!);
        yield { offset: start, value };
      }
      start = -1;
    }
  }
}
