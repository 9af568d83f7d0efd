/**
 * The names capa derives from an imported symbol: with and without the DLL, and without a
 * trailing A/W (`CreateFileA` → `CreateFile`). Ordinals appear as `#N`, only with the DLL.
 */

/** `CreateFileA`, `lstrcpyW`, `GetVersionExA` — not `DNS_A` or a lone `A`. */
export function isAwFunction(symbol: string): boolean {
  if (symbol.length < 2) return false;
  const last = symbol[symbol.length - 1];
  if (last !== 'A' && last !== 'W') return false;
  const before = symbol[symbol.length - 2]!;
  return (before >= 'a' && before <= 'z') || (before >= '0' && before <= '9');
}

function isOrdinal(symbol: string): boolean {
  return symbol.startsWith('#');
}

/** Module names as capa spells them: lowercase, without `.dll`, `.drv` or `.so`. */
export function normalizeDll(dll: string): string {
  return dll.toLowerCase().replace(/\.(dll|drv|so)$/, '');
}

export function generateSymbols(dll: string, symbol: string, includeDll: boolean): string[] {
  const module = normalizeDll(dll);
  const out: string[] = [];
  if (includeDll || isOrdinal(symbol)) out.push(`${module}.${symbol}`);
  if (!isOrdinal(symbol)) out.push(symbol);
  if (isAwFunction(symbol)) {
    if (includeDll) out.push(`${module}.${symbol.slice(0, -1)}`);
    out.push(symbol.slice(0, -1));
  }
  return out;
}
