/** What every data-directory parser receives. */

import { Anomalies } from './anomalies.js';
import type { DataDirectory } from '../image.js';
import type { PeHeaders } from './headers.js';
import type { MappedMemory } from './memory-view.js';

export interface PeContext {
  readonly bytes: Uint8Array;
  readonly headers: PeHeaders;
  readonly memory: MappedMemory;
  readonly anomalies: Anomalies;
  /** ImageBase: VA = base + RVA. */
  readonly base: number;
}

/** The data directory at `index`, or null when its RVA is 0 (absent). */
export function directory(ctx: PeContext, index: number): DataDirectory | null {
  const dir = ctx.headers.dataDirectories[index];
  return dir !== undefined && dir.rva !== 0 ? dir : null;
}
