import { after, before, describe, type TestContext } from "node:test";
import type { Context } from "../app/context.ts";
import { createUser } from "../auth/accounts.ts";
import { type Actor, cliActor } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { createSealer } from "../lib/seal.ts";
import type { Db } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";

/** For the inventory's tests: a suite per store (PGlite, PostgreSQL), each on a fresh store. */

export const responder: Actor = { kind: "token", role: "responder", label: "token:responder" };
export const analyst: Actor = { kind: "token", role: "analyst", label: "token:analyst" };
export const viewer: Actor = { kind: "token", role: "viewer", label: "token:viewer" };

export type Store = {
  ctx: () => Context;
  backend: () => Backend;
  /** true (and the test marked skipped) when this backend is not available here */
  skipped: (t: TestContext) => boolean;
  /** an account with this email, for owners */
  account: (email: string, displayName?: string) => Promise<string>;
};

export function describeOnStores(title: string, body: (store: Store) => void): void {
  for (const make of backends) {
    describe(`${title} (${make === backends[0] ? "PGlite" : "PostgreSQL"})`, { timeout: 120_000 }, () => {
      let backend: Backend;
      let db: Db | undefined;
      let ctx: Context;
      before(async () => {
        backend = await make();
        if (backend.skip) return;
        db = await backend.open();
        const key = Buffer.alloc(32, 9);
        ctx = {
          db,
          key,
          sealer: createSealer(key),
          config: loadConfig({ BLASTRADIUS_DATA: backend.dataDir }),
        };
      });
      after(async () => {
        await db?.close();
        await backend?.cleanup();
      });
      body({
        ctx: () => ctx,
        backend: () => backend,
        skipped: (t) => {
          if (!backend.skip) return false;
          t.skip(backend.skip);
          return true;
        },
        account: async (email, displayName) =>
          (
            await createUser(ctx, cliActor, {
              email,
              displayName,
              role: "responder",
              password: "a long enough passphrase",
            })
          ).user.id,
      });
    });
  }
}
