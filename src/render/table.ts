/**
 * Text tables for reports. Widths are measured on the plain text, so a cell may be styled
 * (coloured) after padding without breaking the alignment; a cell may hold several lines.
 */

export interface Cell {
  text: string;
  /** Applied to each line of the cell after padding is computed. */
  style?: (text: string) => string;
}

export type Row = (string | Cell)[];

function cell(c: string | Cell): Cell {
  return typeof c === 'string' ? { text: c } : c;
}

/** Splits rows with multi-line cells into one physical line per text line. */
function physical(rows: Row[]): Cell[][][] {
  return rows.map((row) => {
    const cells = row.map(cell);
    const split = cells.map((c) => c.text.split('\n'));
    const height = Math.max(1, ...split.map((s) => s.length));
    const lines: Cell[][] = [];
    for (let i = 0; i < height; i++) {
      lines.push(cells.map((c, j) => ({ text: split[j]![i] ?? '', style: c.style })));
    }
    return lines;
  });
}

function widths(header: Row | undefined, rows: Cell[][][], columns: number): number[] {
  const w = new Array<number>(columns).fill(0);
  for (const line of [...(header ? [header.map(cell)] : []), ...rows.flat()]) {
    line.forEach((c, i) => (w[i] = Math.max(w[i]!, c.text.length)));
  }
  return w;
}

function render(c: Cell, width: number, pad: boolean): string {
  const text = pad ? c.text.padEnd(width) : c.text;
  if (!c.style || c.text === '') return text;
  return c.style(c.text) + text.slice(c.text.length);
}

/**
 * A boxed table, as capa's default report draws them:
 *
 *     +-----------+----------+
 *     | HEADING   | HEADING  |
 *     |-----------+----------|
 *     | cell      | cell     |
 *     +-----------+----------+
 */
export function boxTable(header: Row | undefined, rows: Row[]): string[] {
  const columns = Math.max(header?.length ?? 0, ...rows.map((r) => r.length));
  const lines = physical(rows);
  const w = widths(header, lines, columns);
  const rule = (edge: string, join: string) =>
    edge + w.map((n) => '-'.repeat(n + 2)).join(join) + edge;
  const line = (cells: Cell[]) =>
    `| ${w.map((n, i) => render(cells[i] ?? { text: '' }, n, true)).join(' | ')} |`;
  const out = [rule('+', '+')];
  if (header) {
    out.push(line(header.map(cell)));
    out.push(rule('|', '+'));
  }
  for (const row of lines) for (const l of row) out.push(line(l));
  out.push(rule('+', '+'));
  return out;
}

/** A table without borders: columns separated by two spaces, trailing blanks trimmed. */
export function plainTable(rows: Row[]): string[] {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const lines = physical(rows);
  const w = widths(undefined, lines, columns);
  const out: string[] = [];
  for (const row of lines) {
    for (const l of row) {
      let last = l.length - 1;
      while (last > 0 && l[last]!.text === '') last--;
      out.push(
        l
          .slice(0, last + 1)
          .map((c, i) => render(c, w[i]!, i < last))
          .join('  '),
      );
    }
  }
  return out;
}
