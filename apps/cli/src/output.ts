/** Printing for humans (tables, key: value) and for scripts (`--json`). */

export interface Output {
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

export function consoleOutput(json: boolean): Output {
  return { json, out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
};

/** A plain aligned table: one header row, one row per item. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => columns.map((c) => cell(c.split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), r))));
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((row) => row[i].length))));
  const line = (vals: string[]) => vals.map((v, i) => (v.length > widths[i] ? `${v.slice(0, widths[i] - 1)}…` : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Prints data as JSON (`--json`) or through the human formatter. */
export function show(o: Output, data: unknown, human: (d: any) => string = (d) => JSON.stringify(d, null, 2)): void {
  o.out(o.json ? JSON.stringify(data, null, 2) : human(data));
}
