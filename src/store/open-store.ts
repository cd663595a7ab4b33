import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import lockfile from "proper-lockfile";
import type { Config } from "../config/env.ts";
import { AppError } from "../lib/errors.ts";
import type { Db, Queryable, Row } from "./db.ts";
import { migrate } from "./migrate.ts";

/**
 * Opens the store: PostgreSQL when DATABASE_URL is set, else PGlite in BLASTRADIUS_DATA. PGlite
 * serves one process, so the data folder is locked while it is open; a second process gets a clear
 * message instead of a corrupted store. The lock is refreshed while held and goes stale within
 * seconds of its holder dying (even by SIGKILL), so a restart takes it over.
 */

export const LOCK_STALE_MS = 5000;

export type StoreOptions = Pick<Config, "dataDir" | "databaseUrl"> & {
  /** extra PostgreSQL connection options, e.g. "-c search_path=..." (tests) */
  pgOptions?: string;
  /** how many one-second waits for a held PGlite lock before giving up (default 7) */
  lockRetries?: number;
};

export async function openStore(options: StoreOptions): Promise<Db> {
  const db = options.databaseUrl
    ? openPostgres(options.databaseUrl, options.pgOptions)
    : await openPglite(options.dataDir, options.lockRetries ?? 7);
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

function openPostgres(url: string, pgOptions?: string): Db {
  const pool = new pg.Pool({ connectionString: url, max: 10, ...(pgOptions ? { options: pgOptions } : {}) });
  const on = (client: pg.Pool | pg.PoolClient): Queryable => ({
    query: async <T extends Row>(text: string, params?: readonly unknown[]) => {
      const r = await client.query(text, params ? [...params] : undefined);
      return { rows: r.rows as T[] };
    },
    exec: async (text: string) => {
      await client.query(text);
    },
  });
  return {
    kind: "postgres",
    ...on(pool),
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(on(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string, lockRetries: number): Promise<Db> {
  const dir = path.resolve(dataDir);
  await mkdir(dir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, {
      lockfilePath: path.join(dir, "store.lock"),
      stale: LOCK_STALE_MS,
      update: LOCK_STALE_MS / 5,
      // A holder killed a moment ago leaves a lock that turns stale within LOCK_STALE_MS.
      retries: { retries: lockRetries, minTimeout: 1000, maxTimeout: 1000, factor: 1 },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOCKED") {
      throw new AppError(
        "STORE_BUSY",
        `the data folder ${dir} is in use by another blastradius process (PGlite serves one process at a time). ` +
          "Stop that process, use its API, or set DATABASE_URL to a PostgreSQL server to share the store.",
      );
    }
    throw error;
  }
  let client: PGlite;
  try {
    client = await PGlite.create(path.join(dir, "pgdata"));
  } catch (error) {
    await release();
    throw error;
  }
  const on = (q: Pick<PGlite, "query" | "exec">): Queryable => ({
    query: async <T extends Row>(text: string, params?: readonly unknown[]) => {
      const r = await q.query<T>(text, params ? [...params] : undefined);
      return { rows: r.rows };
    },
    exec: async (text: string) => {
      await q.exec(text);
    },
  });
  return {
    kind: "pglite",
    ...on(client),
    transaction: (fn) => client.transaction((tx) => fn(on(tx))),
    close: async () => {
      try {
        await client.close();
      } finally {
        await release();
      }
    },
  };
}
