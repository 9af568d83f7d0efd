/** Collects the anomalies a parse tolerates, with a cap so hostile input cannot grow the list. */

const MAX_ANOMALIES = 200;

export class Anomalies {
  private readonly list: string[] = [];
  private readonly seen = new Set<string>();
  private dropped = 0;

  add(message: string): void {
    if (this.seen.has(message)) return;
    if (this.list.length >= MAX_ANOMALIES) {
      this.dropped++;
      return;
    }
    this.seen.add(message);
    this.list.push(message);
  }

  toArray(): string[] {
    const out = this.list.slice();
    if (this.dropped > 0) out.push(`${this.dropped} further anomalies not recorded`);
    return out;
  }
}

/** `0x`-prefixed lowercase hex, for messages. */
export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}
