/**
 * Where a feature or a match occurs.
 *
 * Absolute virtual addresses — by far the most common — are plain numbers so that sets of
 * locations stay cheap. Every other kind of address is a canonical string, which keeps
 * locations comparable with `===` and usable as Set members:
 *
 * - `no address` (file scope, global features)
 * - `base address+0x10`, `file+0x20`, `token(0x6000001)`, `token(0x6000001)+0x10`
 * - `process{pid:1,tid:2,call:3}` (with `ppid:` first when known; `tid` and `call` optional)
 */
export type Location = number | string;

export const NO_ADDRESS = 'no address';

/** The tagged form of a location, as capa's result document spells addresses. */
export type Address =
  | { type: 'absolute'; value: number }
  | { type: 'relative'; value: number }
  | { type: 'file'; value: number }
  | { type: 'dn token'; token: number }
  | { type: 'dn token offset'; token: number; offset: number }
  | { type: 'process'; ppid: number; pid: number }
  | { type: 'thread'; ppid: number; pid: number; tid: number }
  | { type: 'call'; ppid: number; pid: number; tid: number; id: number }
  | { type: 'no address' };

const MAX_VA = 2 ** 53;

/** Checks that a virtual address is exact as a JavaScript number. */
export function absolute(va: number | bigint): number {
  const n = Number(va);
  if (!Number.isSafeInteger(n) || n < 0 || n >= MAX_VA) {
    throw new RangeError(`address out of range: ${va.toString()}`);
  }
  return n;
}

export function relativeLocation(offset: number): string {
  return `base address+0x${offset.toString(16)}`;
}

export function fileLocation(offset: number): string {
  return `file+0x${offset.toString(16)}`;
}

export function tokenLocation(token: number, offset?: number): string {
  const base = `token(0x${token.toString(16)})`;
  return offset === undefined ? base : `${base}+0x${offset.toString(16)}`;
}

export interface DynamicId {
  ppid?: number;
  pid: number;
  tid?: number;
  call?: number;
}

export function dynamicLocation(id: DynamicId): string {
  const parts: string[] = [];
  if (id.ppid !== undefined) parts.push(`ppid:${id.ppid}`);
  parts.push(`pid:${id.pid}`);
  if (id.tid !== undefined) parts.push(`tid:${id.tid}`);
  if (id.call !== undefined) parts.push(`call:${id.call}`);
  return `process{${parts.join(',')}}`;
}

const HEX = '(0x[0-9a-fA-F]+|\\d+)';
const RELATIVE_RE = new RegExp(`^base address\\+${HEX}$`);
const FILE_RE = new RegExp(`^file\\+${HEX}$`);
const TOKEN_RE = new RegExp(`^token\\(${HEX}\\)(?:\\+${HEX})?$`);
const DYNAMIC_RE = /^process\{([^}]*)\}$/;

function int(text: string): number {
  return Number(text.startsWith('0x') || text.startsWith('0X') ? BigInt(text) : text);
}

/** Parses the canonical text of a location (as written by this module, or by hand in tests). */
export function parseLocation(text: string): Location {
  const t = text.trim();
  if (t === NO_ADDRESS || t === 'global') return NO_ADDRESS;
  if (/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) return absolute(BigInt(t));
  let m = RELATIVE_RE.exec(t);
  if (m) return relativeLocation(int(m[1]!));
  m = FILE_RE.exec(t);
  if (m) return fileLocation(int(m[1]!));
  m = TOKEN_RE.exec(t);
  if (m) return tokenLocation(int(m[1]!), m[2] === undefined ? undefined : int(m[2]));
  m = DYNAMIC_RE.exec(t);
  if (m) {
    const id: Partial<Record<'ppid' | 'pid' | 'tid' | 'call', number>> = {};
    for (const part of m[1]!.split(',')) {
      const kv = /^\s*(ppid|pid|tid|call)\s*:\s*(\d+)\s*$/.exec(part);
      if (!kv) throw new SyntaxError(`invalid address: ${text}`);
      id[kv[1] as 'pid'] = Number(kv[2]);
    }
    if (id.pid === undefined) throw new SyntaxError(`invalid address: ${text}`);
    return dynamicLocation(id as DynamicId);
  }
  throw new SyntaxError(`invalid address: ${text}`);
}

/** The tagged address of a location. */
export function toAddress(location: Location): Address {
  if (typeof location === 'number') return { type: 'absolute', value: location };
  if (location === NO_ADDRESS) return { type: 'no address' };
  let m = RELATIVE_RE.exec(location);
  if (m) return { type: 'relative', value: int(m[1]!) };
  m = FILE_RE.exec(location);
  if (m) return { type: 'file', value: int(m[1]!) };
  m = TOKEN_RE.exec(location);
  if (m) {
    const token = int(m[1]!);
    return m[2] === undefined
      ? { type: 'dn token', token }
      : { type: 'dn token offset', token, offset: int(m[2]) };
  }
  m = DYNAMIC_RE.exec(location);
  if (m) {
    const id: Record<string, number> = {};
    for (const part of m[1]!.split(',')) {
      const [k, v] = part.split(':');
      id[k!] = Number(v);
    }
    const ppid = id.ppid ?? 0;
    const pid = id.pid!;
    if (id.tid === undefined) return { type: 'process', ppid, pid };
    if (id.call === undefined) return { type: 'thread', ppid, pid, tid: id.tid };
    return { type: 'call', ppid, pid, tid: id.tid, id: id.call };
  }
  throw new SyntaxError(`invalid location: ${location}`);
}

const ORDER: Record<Address['type'], number> = {
  absolute: 0,
  relative: 1,
  file: 2,
  'dn token': 3,
  'dn token offset': 4,
  process: 5,
  thread: 6,
  call: 7,
  'no address': 8,
};

function sortKey(a: Address): number[] {
  switch (a.type) {
    case 'absolute':
    case 'relative':
    case 'file':
      return [a.value];
    case 'dn token':
      return [a.token, -1];
    case 'dn token offset':
      return [a.token, a.offset];
    case 'process':
      return [a.ppid, a.pid, -1, -1];
    case 'thread':
      return [a.ppid, a.pid, a.tid, -1];
    case 'call':
      return [a.ppid, a.pid, a.tid, a.id];
    case 'no address':
      return [];
  }
}

/** A total order on locations: numbers first, ascending; then by kind and components. */
export function compareLocations(a: Location, b: Location): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = toAddress(a);
  const y = toAddress(b);
  // processes, threads and calls interleave by their ids, as capa orders them
  const dynamic = (t: Address['type']) => t === 'process' || t === 'thread' || t === 'call';
  if (!(dynamic(x.type) && dynamic(y.type)) && x.type !== y.type) {
    return ORDER[x.type] - ORDER[y.type];
  }
  const kx = sortKey(x);
  const ky = sortKey(y);
  for (let i = 0; i < Math.max(kx.length, ky.length); i++) {
    const d = (kx[i] ?? -1) - (ky[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Human-readable form: hex for virtual addresses, the canonical text otherwise. */
export function formatLocation(location: Location): string {
  return typeof location === 'number' ? `0x${location.toString(16).toUpperCase()}` : location;
}
