import type { Image } from '../format/image.js';
import { carvePe } from './embedded-pe.js';
import { textKey } from './feature.js';
import { FeatureSet } from './feature-set.js';
import { NO_ADDRESS, fileLocation } from './location.js';
import { asciiStrings, utf16Strings } from './strings.js';
import { generateSymbols, normalizeDll } from './symbols.js';

/**
 * `os`, `arch` and `format` of a PE image: present at every scope, at no address. `os`
 * replaces the detected os (capa's `--os`).
 */
export function peGlobalFeatures(image: Image, os: string = image.os): FeatureSet {
  const fs = new FeatureSet();
  fs.add(textKey('os', os), NO_ADDRESS);
  fs.add(textKey('arch', image.arch), NO_ADDRESS);
  fs.add(textKey('format', image.format), NO_ADDRESS);
  return fs;
}

/**
 * File-scope features of a PE, with capa's vocabulary and locations: imports (at their IAT
 * slots), exports (forwarded ones by the name they forward to), section names, strings of
 * the whole file (at file offsets) and embedded PE files.
 */
export function peFileFeatures(image: Image, bytes: Uint8Array): FeatureSet {
  const fs = new FeatureSet();
  for (const imp of image.imports) {
    const symbol = imp.name ?? (imp.ordinal !== undefined ? `#${imp.ordinal}` : undefined);
    if (symbol === undefined) continue;
    for (const name of generateSymbols(imp.dll, symbol, true)) {
      fs.add(textKey('import', name), imp.iatAddress);
    }
  }
  for (const exp of image.exports) {
    if (exp.forwarder !== undefined) {
      fs.add(textKey('export', forwardedName(exp.forwarder)), exp.address);
      fs.add(textKey('characteristic', 'forwarded export'), exp.address);
    } else if (exp.name !== undefined) {
      fs.add(textKey('export', exp.name), exp.address);
    }
  }
  for (const section of image.sections) fs.add(textKey('section', section.name), section.va);
  for (const s of asciiStrings(bytes)) fs.add(textKey('string', s.value), fileLocation(s.offset));
  for (const s of utf16Strings(bytes)) fs.add(textKey('string', s.value), fileLocation(s.offset));
  for (const pe of carvePe(bytes)) {
    fs.add(textKey('characteristic', 'embedded pe'), fileLocation(pe.offset));
  }
  return fs;
}

/** `NTDLL.RtlAcquireSRWLockExclusive` → `ntdll.RtlAcquireSRWLockExclusive`. */
function forwardedName(forwarder: string): string {
  const dot = forwarder.lastIndexOf('.');
  if (dot < 0) return forwarder;
  return `${normalizeDll(forwarder.slice(0, dot))}.${forwarder.slice(dot + 1)}`;
}
