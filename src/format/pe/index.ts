/**
 * PE parser entry point: bytes → `Image`.
 *
 * Headers and the section table must be intact (else `FormatError`); everything after that is
 * parsed leniently, each data directory on its own, and what is odd goes to `image.anomalies`.
 */

import { FormatError } from '../errors.js';
import type { Image } from '../image.js';
import { Anomalies, hex } from './anomalies.js';
import { DIR_CLR } from './constants.js';
import type { PeContext } from './context.js';
import { parseDelayImports } from './delay-imports.js';
import { parseExports } from './exports.js';
import { parseHeaders } from './headers.js';
import { ImportBudget } from './import-thunks.js';
import { parseImports } from './imports.js';
import { mapImage } from './loader.js';
import { findOverlay } from './overlay.js';
import { parseRelocations } from './relocations.js';
import { parseResources } from './resources.js';
import { parseSections } from './sections.js';
import { parseTlsCallbacks } from './tls.js';

export { MappedMemory } from './memory-view.js';

/** Import entries of all tables together, normal and delay-load. */
const MAX_IMPORTS = 0x40000;

export function parsePe(bytes: Uint8Array): Image {
  const anomalies = new Anomalies();
  const headers = parseHeaders(bytes, anomalies);
  const layouts = parseSections(bytes, headers, anomalies);
  const memory = mapImage(bytes, headers, layouts, anomalies);
  const base = headers.imageBase;
  const ctx: PeContext = { bytes, headers, memory, anomalies, base };

  const budget = new ImportBudget(MAX_IMPORTS);
  const imports = [
    ...guarded(ctx, 'imports', [], () => parseImports(ctx, budget)),
    ...guarded(ctx, 'delay-load imports', [], () => parseDelayImports(ctx, budget)),
  ];
  const exports = guarded(ctx, 'exports', [], () => parseExports(ctx));
  const tlsCallbacks = guarded(ctx, 'TLS', [], () => parseTlsCallbacks(ctx));
  const resources = guarded(ctx, 'resources', [], () => parseResources(ctx));
  const relocations = guarded(ctx, 'relocations', new Set<number>(), () => parseRelocations(ctx));
  const overlay = guarded(ctx, 'overlay', null, () => findOverlay(ctx, layouts));

  const clr = headers.dataDirectories[DIR_CLR]!;
  const dotnet = clr.rva !== 0 && clr.size !== 0;

  // AddressOfEntryPoint 0 means "none" for DLLs and 64-bit .NET images; in a native executable
  // the loader would jump to the headers, which we report as an anomaly instead.
  let entryPoint: number | null = null;
  if (headers.addressOfEntryPoint !== 0) {
    entryPoint = base + headers.addressOfEntryPoint;
    if (!memory.isMapped(entryPoint)) anomalies.add(`entry point ${hex(entryPoint)} is not mapped`);
  } else if (!headers.isDll && !dotnet) {
    anomalies.add('entry point RVA is 0 in an executable');
  }

  return {
    format: 'pe',
    arch: headers.arch,
    os: 'windows',
    baseAddress: base,
    entryPoint,
    isDll: headers.isDll,
    dotnet,
    headerSize: headers.sizeOfHeaders,
    sizeOfImage: headers.sizeOfImage,
    timestamp: headers.timestamp,
    checksum: headers.checksum,
    sections: layouts.map((l) => l.section),
    memory,
    imports,
    exports,
    tlsCallbacks,
    relocations,
    resources,
    overlay,
    anomalies: anomalies.toArray(),
    dataDirectories: headers.dataDirectories,
  };
}

/**
 * Runs one directory parser. They are written not to throw; if one does anyway (a bug), the
 * image is still returned without that directory and the failure is recorded as an anomaly.
 */
function guarded<T>(ctx: PeContext, what: string, fallback: T, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof FormatError) throw e;
    ctx.anomalies.add(
      `internal error while parsing ${what}: ${e instanceof Error ? e.message : String(e)}`,
    );
    return fallback;
  }
}
