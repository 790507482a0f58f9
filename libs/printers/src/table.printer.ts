// kubectl's plain tables: upper-case headers, columns padded to the widest cell, three spaces apart.

export interface Table {
  readonly headers: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

const COLUMN_GAP = '   ';

export function renderTable(table: Table, options: { readonly noHeaders?: boolean } = {}): string {
  const lines = options.noHeaders ? table.rows : [table.headers, ...table.rows];
  if (lines.length === 0) return '';
  const widths = table.headers.map((_, column) =>
    Math.max(...lines.map((line) => (line[column] ?? '').length)),
  );
  return (
    lines
      .map((line) =>
        line
          .map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
          .join(COLUMN_GAP)
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
