/**
 * COM class and interface GUIDs that rules may name with `com/class:` and `com/interface:`.
 * The GUIDs are the published Windows SDK values. A name missing here is a rule error that
 * says so, rather than a silent non-match.
 */
export const COM_CLASSES: Readonly<Record<string, string>> = {
  BackgroundCopyManager: '4991D34B-80A1-4291-83B6-3328366B9097',
  CVidCapClassManager: '860BB310-5D01-11D0-BD3B-00A0C911CE86',
  CWaveinClassManager: '33D9A762-90C8-11D0-BD43-00A0C911CE86',
  InternetExplorer: '0002DF01-0000-0000-C000-000000000046',
  NetFwPolicy2: 'E2B3C97F-6AE1-41AC-817A-F6F92166D7DD',
  ShellLink: '00021401-0000-0000-C000-000000000046',
  SystemDeviceEnum: '62BE5D10-60EB-11D0-BD3B-00A0C911CE86',
  TaskScheduler: '0F87369F-A4E5-4CFC-BD3E-73E6154572DD',
  WbemLocator: '4590F811-1D3A-11D0-891F-00AA004B2E24',
};

export const COM_INTERFACES: Readonly<Record<string, string>> = {
  IBackgroundCopyManager: '5CE34C0D-0DC9-4C1F-897C-DAA1B78CEE7C',
  ICreateDevEnum: '29840822-5B84-11D0-BD3B-00A0C911CE86',
  IDispatch: '00020400-0000-0000-C000-000000000046',
  INetFwPolicy2: '98325047-C671-4174-8D81-DEFCD3F03186',
  IPersistFile: '0000010B-0000-0000-C000-000000000046',
  IShellLinkA: '000214EE-0000-0000-C000-000000000046',
  IShellLinkW: '000214F9-0000-0000-C000-000000000046',
  ITaskService: '2FABA4C7-4DA9-4013-9697-20CC3FD40F85',
  IUnknown: '00000000-0000-0000-C000-000000000046',
  IWbemLocator: 'DC12A687-737F-11CF-884D-00AA004B2E24',
  IWbemServices: '9556DC99-828C-11CF-A37E-00AA003240C7',
  IWebBrowser2: 'D30C1661-CDAF-11D0-8A3E-00C04FC9E26E',
};

/** The in-memory layout of a GUID: the first three fields little-endian, the rest as written. */
export function guidBytes(guid: string): Uint8Array {
  const hex = guid.replace(/-/g, '');
  const b = (i: number) => parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Uint8Array.from(order, b);
}
