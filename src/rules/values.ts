/** The values capa accepts for `os:`, `arch:` and `format:`. */

const ELF_OSES = [
  'hpux',
  'netbsd',
  'hurd',
  '86open',
  'solaris',
  'aix',
  'irix',
  'freebsd',
  'tru64',
  'modesto',
  'openbsd',
  'openvms',
  'nsk',
  'aros',
  'fenixos',
  'cloud',
  'syllable',
  'nacl',
];

export const VALID_OSES: readonly string[] = ['windows', 'linux', 'macos', 'android', 'any', ...ELF_OSES];
export const VALID_ARCHES: readonly string[] = ['i386', 'amd64', 'aarch64', 'any'];
export const VALID_FORMATS: readonly string[] = ['pe', 'elf', 'dotnet', 'script'];
