/**
 * Finds PE files inside a buffer — plain or encoded with a one-byte XOR key — as capa's
 * `carve_pe` does: an `MZ` header whose `e_lfanew` points at a `PE\0\0` signature, both under
 * the same key. One pass over the buffer, whatever the key.
 */
export function* carvePe(bytes: Uint8Array, from = 1): Generator<{ offset: number; key: number }> {
  const n = bytes.length;
  for (let i = from; i + 0x40 <= n; i++) {
    const key = bytes[i]! ^ 0x4d; // 'M'
    if ((bytes[i + 1]! ^ key) !== 0x5a) continue; // 'Z'
    const lfanew =
      ((bytes[i + 0x3c]! ^ key) |
        ((bytes[i + 0x3d]! ^ key) << 8) |
        ((bytes[i + 0x3e]! ^ key) << 16) |
        ((bytes[i + 0x3f]! ^ key) << 24)) >>>
      0;
    const pe = i + lfanew;
    if (lfanew === 0 || pe + 4 > n) continue;
    if (
      (bytes[pe]! ^ key) === 0x50 &&
      (bytes[pe + 1]! ^ key) === 0x45 &&
      (bytes[pe + 2]! ^ key) === 0 &&
      (bytes[pe + 3]! ^ key) === 0
    ) {
      yield { offset: i, key };
    }
  }
}
