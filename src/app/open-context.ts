import type { Config } from "../config/env.ts";
import { createSealer, loadOrCreateKey } from "../lib/seal.ts";
import { openStore } from "../store/open-store.ts";
import type { Context } from "./context.ts";

/** Everything a process that uses the store needs, opened once; close() releases the store. */
export async function openContext(
  config: Config,
  options: { lockRetries?: number; pgOptions?: string } = {},
): Promise<Context & { keyCreated: boolean; close(): Promise<void> }> {
  // The key first: a missing key with PostgreSQL should stop us before anything is opened.
  const key = await loadOrCreateKey(config);
  // pg reads PGOPTIONS itself; tests use it to give each run its own schema.
  const db = await openStore({ ...config, ...options });
  return {
    config,
    db,
    key: key.key,
    keyCreated: key.created,
    sealer: createSealer(key.key),
    close: () => db.close(),
  };
}
