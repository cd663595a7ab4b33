import { randomBytes } from "node:crypto";
import pg from "pg";
import { tempDir } from "../lib/test-fixtures.ts";
import type { Db } from "./db.ts";
import { openStore } from "./open-store.ts";

/**
 * The two stores every integration suite runs on: PGlite in a fresh folder and a PostgreSQL server
 * in a fresh schema. In CI the PostgreSQL run is required: an unreachable server fails instead of
 * skipping.
 */
export const PG_URL = process.env.BLASTRADIUS_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export type Backend = {
  name: "PGlite" | "PostgreSQL";
  /** opens (and migrates) the store; may be called again after close() */
  open: () => Promise<Db>;
  /** DATABASE_URL and options for a child process that should share this store */
  env: Record<string, string>;
  dataDir: string;
  cleanup: () => Promise<void>;
  /** why the suite is skipped (never set when CI is) */
  skip?: string;
};

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export async function pgliteBackend(): Promise<Backend> {
  const dir = await tempDir("blastradius-store-");
  return {
    name: "PGlite",
    dataDir: dir,
    env: { BLASTRADIUS_DATA: dir },
    open: () => openStore({ dataDir: dir }),
    cleanup: async () => {},
  };
}

export async function postgresBackend(): Promise<Backend> {
  const dataDir = await tempDir("blastradius-pgdata-");
  if (!(await postgresReachable())) {
    const why = `no PostgreSQL server at ${PG_URL} (set BLASTRADIUS_TEST_DATABASE_URL)`;
    if (process.env.CI) throw new Error(`CI is set, and ${why}`);
    return {
      name: "PostgreSQL",
      dataDir,
      env: {},
      open: () => Promise.reject(new Error(why)),
      cleanup: async () => {},
      skip: why,
    };
  }
  const schema = `test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const pgOptions = `-c search_path=${schema}`;
  return {
    name: "PostgreSQL",
    dataDir,
    env: { BLASTRADIUS_DATA: dataDir, DATABASE_URL: PG_URL, PGOPTIONS: pgOptions },
    open: () => openStore({ dataDir, databaseUrl: PG_URL, pgOptions }),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

export const backends = [pgliteBackend, postgresBackend] as const;
