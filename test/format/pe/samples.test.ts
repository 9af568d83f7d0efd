/**
 * Smoke test over the real samples of capa-testfiles. They are live malware: read as bytes
 * only, never executed, never copied.
 */

import assert from 'node:assert/strict';
import {
  existsSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { FormatError } from '../../../src/format/errors.js';
import type { Image } from '../../../src/format/image.js';
import { parsePe } from '../../../src/format/pe/index.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test');
    dir = up;
  }
  return dir;
}

const shared = process.env.CAPA_TS_SHARED ?? resolve(repoRoot(), '../shared');
const samplesDir = join(shared, 'capa-testfiles');
const referenceDir = join(shared, 'reference', 'capa-9.4');
const present = existsSync(samplesDir);
const inCi = process.env.CI === 'true';

function startsWithMz(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x4d && head[1] === 0x5a;
  } finally {
    closeSync(fd);
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

describe('real samples (capa-testfiles)', () => {
  if (!present) {
    it('needs capa-testfiles', (t) => {
      if (inCi) assert.fail(`capa-testfiles not found at ${samplesDir} (required when CI=true)`);
      console.log(`skipping: capa-testfiles not found at ${samplesDir}`);
      t.skip(`capa-testfiles not found at ${samplesDir}`);
    });
    return;
  }

  const images = new Map<string, Image>();
  const load = (name: string): Image => {
    let image = images.get(name);
    if (image === undefined) {
      image = parsePe(readBytes(join(samplesDir, name)));
      images.set(name, image);
    }
    return image;
  };

  it('parses every MZ file or refuses it with a FormatError', () => {
    const all = listFiles(samplesDir);
    const files = all.filter((p) => statSync(p).size > 0 && startsWithMz(p));
    assert.ok(files.length > 0);
    let parsed = 0;
    let dotnet = 0;
    let withAnomalies = 0;
    const refused = new Map<string, string[]>();
    const mismatches: string[] = [];
    const t0 = performance.now();
    for (const path of files) {
      let image: Image;
      try {
        image = parsePe(readBytes(path));
      } catch (e) {
        if (!(e instanceof FormatError)) {
          throw new Error(`${path}: ${e instanceof Error ? e.stack : String(e)}`);
        }
        const list = refused.get(e.code) ?? [];
        list.push(`${path.slice(samplesDir.length + 1)}: ${e.message}`);
        refused.set(e.code, list);
        continue;
      }
      parsed++;
      if (image.dotnet) dotnet++;
      if (image.anomalies.length > 0) withAnomalies++;
      assert.deepEqual(
        image.anomalies.filter((a) => a.startsWith('internal error')),
        [],
        path,
      );
      // Where capa 9.4 analysed the same file, arch and base address must agree.
      const ref = join(referenceDir, `${path.slice(samplesDir.length + 1)}.json`);
      if (existsSync(ref)) {
        const doc = JSON.parse(readFileSync(ref, 'utf8')) as {
          arch?: string;
          base_address?: string;
        };
        if (doc.arch !== undefined && doc.arch !== image.arch)
          mismatches.push(`${path}: arch ${image.arch} vs ${doc.arch}`);
        if (doc.base_address !== undefined && Number(doc.base_address) !== image.baseAddress) {
          mismatches.push(
            `${path}: base 0x${image.baseAddress.toString(16)} vs ${doc.base_address}`,
          );
        }
      }
    }
    const ms = performance.now() - t0;
    console.log(
      `capa-testfiles: ${all.length} files, ${files.length} start with MZ, ${parsed} parsed (${dotnet} .NET, ${withAnomalies} with anomalies), ` +
        `${files.length - parsed} refused, in ${ms.toFixed(0)} ms`,
    );
    for (const [code, list] of refused) {
      console.log(`  refused (${code}): ${list.length}`);
      for (const line of list) console.log(`    ${line}`);
    }
    assert.deepEqual(mismatches, []);
  });

  it(
    'kernel32.dll_ has exports forwarded to NTDLL',
    { skip: !existsSync(join(samplesDir, 'kernel32.dll_')) },
    () => {
      const image = load('kernel32.dll_');
      assert.equal(image.isDll, true);
      const forwarded = image.exports.filter((e) => e.forwarder !== undefined);
      assert.ok(forwarded.length > 10);
      const acquire = forwarded.filter((e) => /^(Acquire|AddVectored)/.test(e.name ?? ''));
      assert.ok(acquire.length > 0);
      for (const e of acquire) assert.match(e.forwarder!, /^NTDLL\./i);
      assert.ok(image.exports.some((e) => e.name === 'CreateFileA' && e.forwarder === undefined));
    },
  );

  it(
    'mimikatz.exe_ imports advapi32 functions',
    { skip: !existsSync(join(samplesDir, 'mimikatz.exe_')) },
    () => {
      const image = load('mimikatz.exe_');
      const advapi = image.imports.filter((i) => i.dll === 'advapi32');
      assert.ok(advapi.length > 10);
      assert.ok(
        advapi.some((i) => i.name === 'CryptAcquireContextW' || i.name === 'OpenProcessToken'),
      );
      // capa's fixture: file scope has import cabinet.#11.
      assert.ok(image.imports.some((i) => i.dll === 'cabinet' && i.ordinal === 11));
      for (const i of image.imports) assert.ok(image.memory.isMapped(i.iatAddress));
    },
  );

  it('PMA Lab 01-01.dll_ parses as i386 and 64-bit samples as amd64', () => {
    const lab = 'Practical Malware Analysis Lab 01-01.dll_';
    if (existsSync(join(samplesDir, lab))) {
      const image = load(lab);
      assert.equal(image.arch, 'i386');
      assert.equal(image.isDll, true);
    }
    if (existsSync(join(samplesDir, 'kernel32-64.dll_'))) {
      const k64 = load('kernel32-64.dll_');
      assert.equal(k64.arch, 'amd64');
      assert.equal(k64.memory.pointerSize, 8);
      assert.ok(k64.exports.length > 1000);
    }
  });
});
