/**
 * An untrusted value in a table cell: shown as text, wrapped anywhere and capped in width and
 * height, so one hostile value (a name of 100,000 characters) cannot stretch the table.
 */
export function CellText({ value, code = false }: { value: string | null | undefined; code?: boolean }) {
  if (value === null || value === undefined || value === "") return <span className="muted">–</span>;
  return code ? <code className="cell-text">{value}</code> : <span className="cell-text">{value}</span>;
}

/** Category keys, compact; each one's plain name shows on hover. */
export function CategoryList({
  keys,
  labelOf,
}: {
  keys: readonly string[];
  labelOf: (key: string) => string;
}) {
  if (keys.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="category-keys">
      {keys.map((c) => (
        <li key={c} title={labelOf(c)}>
          {c}
        </li>
      ))}
    </ul>
  );
}
