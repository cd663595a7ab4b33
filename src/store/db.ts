/**
 * The store's narrow SQL interface, the same over PGlite and a PostgreSQL server, so use cases and
 * migrations never know which one they run on.
 */
export type Row = Record<string, unknown>;

export type Queryable = {
  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<{ rows: T[] }>;
  /** several statements, no parameters (migrations) */
  exec(text: string): Promise<void>;
};

export type Db = Queryable & {
  readonly kind: "pglite" | "postgres";
  /** runs fn in one transaction; it commits when fn resolves and rolls back when it throws */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};
