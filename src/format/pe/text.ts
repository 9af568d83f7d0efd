/** Byte-to-string conversions that never throw and never guess an encoding. */

/** Bytes as a string, one character per byte (0x80..0xff keep their values, as Latin-1). */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 0x2000) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 0x2000)));
  }
  return out;
}

/** UTF-16LE code units as a string (unpaired surrogates kept as they are). `bytes.length` must be even. */
export function utf16le(bytes: Uint8Array): string {
  const units = new Array<number>(bytes.length >> 1);
  for (let i = 0; i < units.length; i++) units[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
  return fromCodeUnits(units);
}

/** UTF-16 code units as a string. */
export function fromCodeUnits(units: readonly number[]): string {
  let out = '';
  for (let i = 0; i < units.length; i += 0x2000) {
    out += String.fromCharCode(...units.slice(i, i + 0x2000));
  }
  return out;
}
