import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Finds the samples that rules' `examples:` name: by file name (with or without the trailing
 * `_` and the extension), or by MD5 or SHA-256, case-insensitively.
 */
export class SampleIndex {
  private readonly byName = new Map<string, string>();

  constructor(dirs: readonly string[]) {
    for (const dir of dirs) {
      for (const file of readdirSync(dir).sort()) {
        const path = join(dir, file);
        if (!statSync(path).isFile() || /\.(json|md)$/.test(file) || file === 'LICENSE') continue;
        const bytes = readFileSync(path);
        const stem = file.replace(/_$/, '');
        for (const name of [
          file,
          stem,
          stem.replace(/\.[^.]+$/, ''),
          createHash('md5').update(bytes).digest('hex'),
          createHash('sha256').update(bytes).digest('hex'),
        ]) {
          this.byName.set(name.toLowerCase(), path);
        }
      }
    }
  }

  /** The path of the sample an example names, if present. */
  find(name: string): string | undefined {
    return this.byName.get(name.toLowerCase());
  }
}

export interface Example {
  sample: string;
  address?: number;
}

/** `sample` or `sample:0xADDRESS`. */
export function parseExample(text: string): Example {
  const m = /^(.*?)(?::(0x[0-9a-fA-F]+))?\s*$/.exec(text.trim())!;
  return m[2] ? { sample: m[1]!, address: Number(m[2]) } : { sample: m[1]! };
}
