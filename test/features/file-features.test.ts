import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carvePe } from '../../src/features/embedded-pe.js';
import { asciiStrings, utf16Strings } from '../../src/features/strings.js';
import { generateSymbols, isAwFunction } from '../../src/features/symbols.js';

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('symbol names', () => {
  it('derives the names capa matches imports and APIs by', () => {
    assert.deepEqual(generateSymbols('KERNEL32.dll', 'CreateFileA', true), [
      'kernel32.CreateFileA',
      'CreateFileA',
      'kernel32.CreateFile',
      'CreateFile',
    ]);
    assert.deepEqual(generateSymbols('kernel32', 'CreateFileA', false), [
      'CreateFileA',
      'CreateFile',
    ]);
    assert.deepEqual(generateSymbols('ws2_32', '#1', false), ['ws2_32.#1']);
    assert.equal(isAwFunction('GetVersionExA'), true);
    assert.equal(isAwFunction('DNS_A'), false);
    assert.equal(isAwFunction('W'), false);
  });
});

describe('strings in raw bytes', () => {
  it('finds ASCII runs of four or more printable characters, tabs included', () => {
    const found = [...asciiStrings(enc('\x00abc\x00abcd\x01tab\there\x7f'))];
    assert.deepEqual(found, [
      { offset: 5, value: 'abcd' },
      { offset: 10, value: 'tab\there' },
    ]);
  });

  it('finds UTF-16LE runs at either alignment', () => {
    const bytes = enc('\x01m\x00a\x00i\x00l\x00\x00\x00\x00x\x00y\x00z\x00w\x00');
    assert.deepEqual(
      [...utf16Strings(bytes)].sort((a, b) => a.offset - b.offset),
      [
        { offset: 1, value: 'mail' },
        { offset: 12, value: 'xyzw' },
      ],
    );
  });
});

describe('embedded PE files', () => {
  function pe(key: number): Uint8Array {
    const b = new Uint8Array(0x100);
    b[0] = 0x4d;
    b[1] = 0x5a;
    b[0x3c] = 0x80;
    b.set([0x50, 0x45, 0, 0], 0x80);
    return b.map((x) => x ^ key);
  }

  it('finds plain and XOR-encoded PE files after the first byte', () => {
    const buf = new Uint8Array(0x400);
    buf.set(pe(0), 0);
    buf.set(pe(0), 0x100);
    buf.set(pe(0x5a), 0x250);
    assert.deepEqual(
      [...carvePe(buf)],
      [
        { offset: 0x100, key: 0 },
        { offset: 0x250, key: 0x5a },
      ],
    );
  });

  it('ignores an MZ without a PE signature', () => {
    const buf = new Uint8Array(0x200);
    buf.set([0x4d, 0x5a], 0x10);
    assert.deepEqual([...carvePe(buf)], []);
  });
});
