/** Where a command writes: results to `out`, diagnostics to `err`. */
export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}
