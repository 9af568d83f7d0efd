/**
 * The bundled default rule pack (`rules/`): it loads without errors, has at least 80 rules,
 * and every rule matches where its table entry says — a capa test file at a function, basic
 * block or the file, or one of our fixture programs at a named function. The fixtures that do
 * nothing suspicious show that the pack does not fire on the MinGW start-up code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findCapabilities } from '../../src/capabilities/find-capabilities.js';
import { NO_ADDRESS } from '../../src/features/location.js';
import { readRuleFiles } from '../../src/node/rule-files.js';
import { loadRules } from '../../src/rules/load.js';
import { REPO_ROOT, sharedPath } from '../support/shared-data.js';

const { ruleSet, errors } = loadRules(readRuleFiles([join(REPO_ROOT, 'rules')]));

/** Where a rule is expected: the sample and the address of the match, or `file`. */
type Where = [sample: string, address: number | 'file'];

/**
 * Rule → a capa test file (in `capa-testfiles`) and an address where the rule must match.
 * The same sample and address are the rule's `examples:` entry.
 */
const ON_SAMPLES: Record<string, Where> = {
  // anti-analysis/anti-debugging/debugger-detection
  'check for a debugger via CheckRemoteDebuggerPresent': [
    'ccbf7cba35bab56563c0fbe4237fdc41.exe_',
    0x401db0,
  ],
  'check the NtGlobalFlag of the PEB': ['Practical Malware Analysis Lab 16-01.exe_', 0x401100],
  'detect a debugger via OutputDebugString errors': [
    'Practical Malware Analysis Lab 16-02.exe_',
    0x401020,
  ],
  'look for debugger windows': ['Practical Malware Analysis Lab 16-02.exe_', 0x401060],
  'measure elapsed time via GetTickCount': [
    'Practical Malware Analysis Lab 17-02.dll_',
    0x10001656,
  ],
  'measure elapsed time via QueryPerformanceCounter': [
    '3808f21e56dede99bc914d90aeabe47a.exe_',
    0x140004bc8,
  ],
  'measure elapsed time via RDTSC': ['e5369ac309f1be6d77afeeb3edab0ed8.exe_', 0x4023b0],
  'query the debug port of a process': ['kernel32.dll_', 0x7dd97899],
  'read the BeingDebugged flag of the PEB': ['Practical Malware Analysis Lab 16-02.exe_', 0x401090],
  'reference analysis tool process names': ['3808f21e56dede99bc914d90aeabe47a.exe_', 'file'],
  // anti-analysis/anti-vm/sandbox-detection
  'check the sandbox user or host name': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 0x402b90],
  'reference sandbox artifacts': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 'file'],
  // anti-analysis/anti-vm/vm-detection
  'query the VMware backdoor I/O port': ['Practical Malware Analysis Lab 17-03.exe_', 0x401a80],
  'reference QEMU artifacts': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 'file'],
  'reference VMware artifacts': ['Practical Malware Analysis Lab 17-02.dll_', 'file'],
  'reference VirtualBox artifacts': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 'file'],
  // communication/dns
  'get the local host name': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 0x407480],
  'query DNS records via the DNS API': ['5f66b82558ca92e54e77f216ef4c066c.exe_', 0x45ad3a],
  'reference a public DNS resolver': ['59a6c5036241a2f604e755bf523eb084.exe_', 0x140001760],
  'resolve a host name': ['Practical Malware Analysis Lab 16-01.exe_', 0x401ab0],
  'resolve an address to a host name': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 0x403790],
  // communication/http
  'reference a browser User-Agent string': [
    'Practical Malware Analysis Lab 17-02.dll_',
    0x10002cce,
  ],
  // communication/http/urlmon
  'download a URL to a file via URLMon': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 0x4019a0],
  // communication/http/winhttp
  'open an HTTP session via WinHTTP': ['152d4c9f63efb332ccb134c6953c0104.exe_', 0x140039b3c],
  'receive an HTTP response via WinHTTP': ['152d4c9f63efb332ccb134c6953c0104.exe_', 0x140039f48],
  'send an HTTP request via WinHTTP': ['152d4c9f63efb332ccb134c6953c0104.exe_', 0x140039b3c],
  // communication/http/wininet
  'connect to a server via WinINet': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 0x404fb0],
  'open a URL via WinINet': ['Practical Malware Analysis Lab 14-02.exe_', 0x401750],
  'open an Internet session via WinINet': ['Practical Malware Analysis Lab 14-02.exe_', 0x401750],
  'read data from the Internet via WinINet': [
    'Practical Malware Analysis Lab 14-02.exe_',
    0x401800,
  ],
  'send an HTTP request via WinINet': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 0x404fb0],
  // communication/socket
  'configure a socket': ['Practical Malware Analysis Lab 17-02.dll_', 0x1000208f],
  'connect a socket': ['Practical Malware Analysis Lab 16-01.exe_', 0x401ab0],
  'initialize Winsock': ['Practical Malware Analysis Lab 16-01.exe_', 0x401ab0],
  // communication/socket/listen
  'accept connections on a socket': ['d063b1804e8d2bb26bd2e097141c1bbc.exe_', 0x42ccf0],
  // communication/socket/receive
  'receive data on a socket': ['Practical Malware Analysis Lab 16-01.exe_', 0x402020],
  // communication/socket/send
  'send data on a socket': ['Practical Malware Analysis Lab 16-01.exe_', 0x401cd0],
  // communication/socket/tcp
  'create a TCP socket': ['Practical Malware Analysis Lab 16-01.exe_', 0x401b83],
  // communication/socket/udp
  'create a UDP socket': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 0x40d046],
  // compiler/autoit
  'compiled with AutoIt': ['55d77ab16377a8a314982f723fcc6fae.exe_', 'file'],
  // compiler/delphi
  'compiled with Delphi': [
    '787cbc8a6d1bc58ea169e51e1ad029a637f22560660cc129ab8a099a745bd50e.exe_',
    'file',
  ],
  // compiler/mingw
  'compiled with MinGW': [
    '4f509bdfe5a2fe4320cdc070eedc0a72e12cc08f43d60a7701305b3d1408102b.exe_',
    'file',
  ],
  // compiler/nuitka
  'compiled with Nuitka': ['39ce034911a6ebd482af5893f9bdbd95.exe_', 'file'],
  // compiler/vb
  'compiled from Visual Basic': ['9bca6b99e7981208af4c7925b96fb9cf.exe_', 'file'],
  // data-manipulation/encryption
  'acquire a CryptoAPI provider context': ['e5369ac309f1be6d77afeeb3edab0ed8.exe_', 0x401350],
  'create or import a key via CryptoAPI': ['e5369ac309f1be6d77afeeb3edab0ed8.exe_', 0x401350],
  'encrypt or decrypt data via BCrypt': [
    '6f9cb3f56d227fd57f0b75220472d744a6de894e7f74302ae39bbb164a92cdd6.exe_',
    0x140003200,
  ],
  'encrypt or decrypt data via CryptoAPI': ['e5369ac309f1be6d77afeeb3edab0ed8.exe_', 0x401350],
  // data-manipulation/encryption/aes
  'reference AES tables': [
    '378ecc1b2e60129c9f06bb6bb8042f2b95feca5f526a4c26a5c39707807fa259.exe_',
    0x1400017c0,
  ],
  // data-manipulation/encryption/dpapi
  'protect data via DPAPI': ['5b99fa01c72cebc53a76cc72e9581189.dll_', 0x180001160],
  // data-manipulation/encryption/salsa20
  'reference the Salsa20 or ChaCha constant': [
    '3808f21e56dede99bc914d90aeabe47a.exe_',
    0x140001240,
  ],
  // data-manipulation/encryption/tea
  'reference the TEA key schedule constant': ['5b99fa01c72cebc53a76cc72e9581189.dll_', 0x180001020],
  // data-manipulation/hashing
  'hash data via CryptoAPI': ['e5369ac309f1be6d77afeeb3edab0ed8.exe_', 0x401350],
  // data-manipulation/hashing/crc32
  'compute a CRC-32 checksum': ['ccbf7cba35bab56563c0fbe4237fdc41.exe_', 0x401260],
  // data-manipulation/hashing/fnv
  'hash data with FNV': ['09bf850be5da44a1c3629a1f62813a83.dll_', 0x10008da0],
  // data-manipulation/hashing/md5
  'hash data with MD5': ['Practical Malware Analysis Lab 17-02.dll_', 0x100108ed],
  // data-manipulation/hashing/murmur
  'hash data with MurmurHash3': [
    '67f8302a2fd28d15f62d6d20d748bfe350334e5353cbdef112bd1f8231b5599d.exe_',
    0x403e1c,
  ],
  // data-manipulation/hashing/sha1
  'hash data with SHA-1': [
    '67f8302a2fd28d15f62d6d20d748bfe350334e5353cbdef112bd1f8231b5599d.exe_',
    0x406fa5,
  ],
  // data-manipulation/hashing/sha256
  'hash data with SHA-256': ['d063b1804e8d2bb26bd2e097141c1bbc.exe_', 0x434440],
  // executable/packer/aspack
  'packed with ASPack': ['2055994ff75b4309eee3a49c5749d306.exe_', 'file'],
  // executable/packer/huan
  'packed with Huan': [
    '378ecc1b2e60129c9f06bb6bb8042f2b95feca5f526a4c26a5c39707807fa259.exe_',
    'file',
  ],
  // executable/packer/kkrunchy
  'packed with kkrunchy': ['f9ac6b16273556b3a57bf2c6d7e7db97.exe_', 'file'],
  // executable/packer/pecompact
  'packed with PECompact': ['Practical Malware Analysis Lab 18-03.exe_', 'file'],
  // executable/packer/pelock
  'packed with PELock': ['f0a6a1bd6d760497623611e8297a81df.exe_', 'file'],
  // executable/packer/pespin
  'packed with PESpin': [
    '23e19068ecba68d4396bc097e0278b8eca7e7dcaa4978e34d683231ad2219ae3.exe_',
    'file',
  ],
  // executable/packer/upack
  'packed with Upack': ['9d98f8519d9fee8219caca5b31eef0bd.exe_', 'file'],
  // executable/packer/upx
  'packed with UPX': ['Practical Malware Analysis Lab 01-02.exe_', 'file'],
  // executable/packer/y0da
  'packed with y0da crypter': ['0cd2b334aede270b14868db28211cde3.exe_', 'file'],
  // executable/subfile/pe
  'contain an embedded PE file': ['Practical Malware Analysis Lab 17-03.exe_', 'file'],
  // host-interaction/file-system
  'get the Windows or system directory': ['Practical Malware Analysis Lab 11-02.dll_', 0x1000105b],
  // host-interaction/file-system/copy
  'copy a file': ['Practical Malware Analysis Lab 11-02.dll_', 0x1000158b],
  // host-interaction/file-system/create
  'create a directory': ['Practical Malware Analysis Lab 17-02.dll_', 0x10008f62],
  // host-interaction/file-system/delete
  'delete a file': ['Practical Malware Analysis Lab 16-01.exe_', 0x4032c0],
  // host-interaction/file-system/files/list
  'enumerate files in a directory': ['Practical Malware Analysis Lab 17-02.dll_', 0x1000894e],
  // host-interaction/file-system/meta
  'hide a file via its attributes': ['e5369ac309f1be6d77afeeb3edab0ed8.exe_', 0x402831],
  // host-interaction/file-system/move
  'move or rename a file': ['Practical Malware Analysis Lab 17-02.dll_', 0x100042db],
  // host-interaction/file-system/read
  'map a file into memory': ['5b99fa01c72cebc53a76cc72e9581189.dll_', 0x180001160],
  // host-interaction/file-system/write
  'create and write a file': ['Practical Malware Analysis Lab 16-01.exe_', 0x402020],
  // host-interaction/process/create
  'create a process': ['Practical Malware Analysis Lab 14-02.exe_', 0x4011c0],
  'create a suspended process': ['Practical Malware Analysis Lab 14-02.exe_', 0x4011c0],
  'run a command through cmd.exe': ['Practical Malware Analysis Lab 14-02.exe_', 0x4011c0],
  'run a process with redirected standard handles': [
    'Practical Malware Analysis Lab 14-02.exe_',
    0x4011c0,
  ],
  'start a program via ShellExecute': ['Practical Malware Analysis Lab 14-02.exe_', 0x401880],
  'start a program via WinExec': ['Practical Malware Analysis Lab 17-02.dll_', 0x10001074],
  // host-interaction/process/inject
  'allocate executable and writable memory': [
    'Practical Malware Analysis Lab 17-03.exe_',
    0x401529,
  ],
  'allocate memory in another process': ['Practical Malware Analysis Lab 17-03.exe_', 0x401380],
  'inject a DLL through LoadLibrary in a remote thread': [
    'Practical Malware Analysis Lab 17-03.exe_',
    0x401380,
  ],
  'inject code into a remote process': ['Practical Malware Analysis Lab 17-03.exe_', 0x401380],
  'queue an APC to a thread': ['kernel32.dll_', 0x7dd99f5d],
  'replace the image of a suspended process': [
    'Practical Malware Analysis Lab 17-03.exe_',
    0x401400,
  ],
  'start a thread in another process': ['Practical Malware Analysis Lab 17-03.exe_', 0x401380],
  'write memory of another process': ['Practical Malware Analysis Lab 17-03.exe_', 0x401380],
  // host-interaction/process/list
  'enumerate running processes': ['Practical Malware Analysis Lab 17-03.exe_', 0x401130],
  // host-interaction/process/terminate
  'terminate another process': ['Practical Malware Analysis Lab 17-02.dll_', 0x100069e1],
  // host-interaction/registry
  'enumerate registry keys or values': ['Practical Malware Analysis Lab 17-03.exe_', 0x4011c0],
  'open or create a registry key': ['Practical Malware Analysis Lab 11-02.dll_', 0x1000158b],
  'query a registry value': ['Practical Malware Analysis Lab 16-01.exe_', 0x401100],
  // host-interaction/registry/create
  'set a registry value': ['Practical Malware Analysis Lab 11-02.dll_', 0x1000158b],
  // host-interaction/registry/delete
  'delete a registry key': ['Practical Malware Analysis Lab 17-02.dll_', 0x1000a01f],
  'delete a registry value': ['Practical Malware Analysis Lab 16-01.exe_', 0x4013e0],
  // host-interaction/service
  'run as a Windows service': ['Practical Malware Analysis Lab 17-02.dll_', 0x1000cf30],
  // host-interaction/service/start
  'start a service': ['Practical Malware Analysis Lab 17-02.dll_', 0x1000bb88],
  // host-interaction/thread/context
  'change the register context of a thread': [
    'Practical Malware Analysis Lab 17-03.exe_',
    0x401400,
  ],
  // host-interaction/thread/create
  'create a thread': ['Practical Malware Analysis Lab 14-02.exe_', 0x40136a],
  // host-interaction/thread/list
  'enumerate threads of the system': ['Practical Malware Analysis Lab 11-02.dll_', 0x100012fe],
  // host-interaction/thread/open
  'open a thread': [
    '787cbc8a6d1bc58ea169e51e1ad029a637f22560660cc129ab8a099a745bd50e.exe_',
    0x5028b8,
  ],
  // host-interaction/thread/resume
  'resume a thread': ['Practical Malware Analysis Lab 11-02.dll_', 0x10001461],
  // host-interaction/thread/suspend
  'suspend a thread': ['Practical Malware Analysis Lab 11-02.dll_', 0x10001385],
  // host-interaction/thread/terminate
  'terminate a thread': ['Practical Malware Analysis Lab 14-02.exe_', 0x40139e],
  // linking/peb
  'access the process environment block': ['Practical Malware Analysis Lab 16-02.exe_', 0x401090],
  'walk the loaded module list via the PEB': [
    'Practical Malware Analysis Lab 16-01.exe_',
    0x403530,
  ],
  // linking/runtime-linking
  'parse the export directory of a module': ['5b99fa01c72cebc53a76cc72e9581189.dll_', 0x180001c60],
  'resolve a native ntdll function at run time': [
    'Practical Malware Analysis Lab 17-03.exe_',
    0x401400,
  ],
  'resolve functions by ROR-13 hash': ['09bf850be5da44a1c3629a1f62813a83.dll_', 0x1000a030],
  'resolve many functions at run time': ['Practical Malware Analysis Lab 17-02.dll_', 0x10001656],
  // linking/static/detours
  'use Microsoft Detours': [
    '071f2d1c4c2201ee95ffe2aa965000f5f615a11a12d345e33b9fb060e5597740.dll_',
    'file',
  ],
  // persistence/registry/appinit-dlls
  'persist via the AppInit_DLLs registry value': [
    'Practical Malware Analysis Lab 11-02.dll_',
    0x1000158b,
  ],
  // persistence/registry/run
  'persist via a Run registry key': ['e5369ac309f1be6d77afeeb3edab0ed8.exe_', 0x4011f0],
  // persistence/registry/winlogon
  'persist via a Winlogon registry value': ['Practical Malware Analysis Lab 11-01.exe_', 0x401000],
  // persistence/scheduled-task
  'schedule a task via the Task Scheduler COM interface': [
    '6f9cb3f56d227fd57f0b75220472d744a6de894e7f74302ae39bbb164a92cdd6.exe_',
    0x140005170,
  ],
  // persistence/service
  'change the configuration of a service': ['Practical Malware Analysis Lab 16-01.exe_', 0x402f40],
  'install a Windows service': ['Practical Malware Analysis Lab 16-01.exe_', 0x402f40],
  'persist via a service registry key': ['Practical Malware Analysis Lab 17-02.dll_', 0x1000d8a8],
};

/** Rule → a fixture program (`fixtures/bin/NAME.exe`) and the function (or `file`) it matches. */
const ON_FIXTURES: Record<string, [program: string, functionName: string]> = {
  'create mailslot': ['mailslot_server.x86', 'create_server_mailslot'],
  'read from mailslot': ['mailslot_server.x86', 'read_waiting_messages'],
  'query or change mailslot state': ['mailslot_server.x86', 'poll_mailslot'],
  'reference mailslot name': ['mailslot_client.x86', 'send_to_local_mailslot'],
  'write to mailslot': ['mailslot_client.x64', 'send_to_local_mailslot'],
  'broadcast to a domain mailslot': ['mailslot_broadcast.x86', 'open_broadcast_mailslot'],
  'resolve mailslot API at run time': ['mailslot_resolver.x64', 'resolve_create_mailslot'],
  'communicate via mailslot': ['mailslot_client.x86', 'file'],
};

/** Programs without anything suspicious: every rule of the pack that fires there, and where. */
const QUIET_FIXTURES: Record<string, Record<string, string[]>> = {
  'features.x86': { 'compiled with MinGW': ['file'] },
  'features.x64': { 'compiled with MinGW': ['file'] },
  'namedpipe_control.x86': {
    'compiled with MinGW': ['file'],
    'create and write a file': ['write_to_pipe'],
  },
  'namedpipe_control.x64': {
    'compiled with MinGW': ['file'],
    'create and write a file': ['write_to_pipe'],
  },
};

type Found = Map<string, (number | 'file')[]>;
const cache = new Map<string, Found>();

/** Every match of the pack on one file, by rule name; each file is analysed once. */
function analyse(path: string): Found {
  let found = cache.get(path);
  if (found) return found;
  const { matches } = findCapabilities(new Uint8Array(readFileSync(path)), ruleSet);
  found = new Map();
  for (const rule of ruleSet.namedRules) {
    const locations = matches.get(rule.name);
    if (!locations) continue;
    found.set(
      rule.name,
      locations.map(([l]) => (l === NO_ADDRESS ? 'file' : (l as number))),
    );
  }
  cache.set(path, found);
  return found;
}

const hex = (a: number | 'file') => (a === 'file' ? a : `0x${a.toString(16)}`);

function fixture(program: string) {
  const bin = join(REPO_ROOT, 'fixtures/bin', `${program}.exe`);
  const symbols = JSON.parse(
    readFileSync(bin.replace(/\.exe$/, '.symbols.json'), 'utf8'),
  ) as Record<string, number>;
  const names = new Map(Object.entries(symbols).map(([k, v]) => [v, k]));
  return { bin, symbols, names };
}

describe('the bundled rule pack', () => {
  it('loads without errors', () =>
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
    ));

  it('has at least 80 rules', () => assert.ok(ruleSet.namedRules.length >= 80));

  it('has a test entry for every rule, and no entry without a rule', () => {
    const rules = ruleSet.namedRules.map((r) => r.name).sort();
    const entries = [...Object.keys(ON_SAMPLES), ...Object.keys(ON_FIXTURES)].sort();
    assert.deepEqual(entries, rules);
  });

  it("names each rule's table entry among its examples", () => {
    for (const rule of ruleSet.namedRules) {
      const entry = ON_SAMPLES[rule.name];
      if (!entry) continue;
      const [sample, address] = entry;
      const stem = sample.replace(/\.(exe|dll|sys)_$/, '');
      const names = [sample, stem].map((s) =>
        (address === 'file' ? s : `${s}:${hex(address)}`).toLowerCase(),
      );
      assert.ok(
        rule.meta.examples.some((e) => names.includes(e.toLowerCase())),
        `${rule.name}: ${rule.meta.examples.join(', ')}`,
      );
    }
  });
});

describe('the rule pack on our fixture programs', () => {
  for (const [name, [program, functionName]] of Object.entries(ON_FIXTURES)) {
    it(`${name}: ${program} ${functionName}`, () => {
      const { bin, symbols } = fixture(program);
      const want = functionName === 'file' ? 'file' : symbols[functionName];
      assert.ok(want !== undefined, `${functionName} is in the symbols file`);
      assert.ok((analyse(bin).get(name) ?? []).includes(want));
    });
  }

  for (const [program, expected] of Object.entries(QUIET_FIXTURES)) {
    it(`fires only where expected on ${program}`, () => {
      const { bin, names } = fixture(program);
      const got = Object.fromEntries(
        [...analyse(bin)].map(([rule, locations]) => [
          rule,
          locations.map((l) => (l === 'file' ? l : (names.get(l) ?? hex(l)))).sort(),
        ]),
      );
      assert.deepEqual(got, expected);
    });
  }
});

describe('the rule pack on the capa test files', () => {
  const samples = sharedPath('capa-testfiles');
  for (const [name, [sample, address]] of Object.entries(ON_SAMPLES)) {
    it(`${name}: ${sample} ${hex(address)}`, { skip: !samples }, () => {
      const found = analyse(join(samples!, sample)).get(name) ?? [];
      assert.ok(found.includes(address), `matches: ${found.map(hex).join(', ') || 'none'}`);
    });
  }
});
