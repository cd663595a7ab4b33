import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Context } from "../app/context.ts";
import { AppError } from "../lib/errors.ts";
import { createSealer } from "../lib/seal.ts";
import type { Db } from "../store/db.ts";
import { type Backend, backends } from "../store/test-backends.ts";
import { bootstrapFirstAdmin, createUser, updateUser } from "./accounts.ts";
import { cliActor } from "./roles.ts";
import { authenticateSession, signIn } from "./sessions.ts";
import { totpCode } from "./totp.ts";

const code = (c: string) => (e: unknown) => e instanceof AppError && e.code === c;
const PASSWORD = "a long enough passphrase";

for (const [i, make] of backends.entries()) {
  describe(`accounts on ${i === 0 ? "PGlite" : "PostgreSQL"}`, () => {
    let backend: Backend;
    let db: Db;
    let ctx: Pick<Context, "db" | "sealer">;
    before(async () => {
      backend = await make();
      if (backend.skip) return;
      db = await backend.open();
      ctx = { db, sealer: createSealer(Buffer.alloc(32, 7)) };
    });
    after(async () => {
      await db?.close();
      await backend?.cleanup();
    });

    it("bootstraps one first admin, with a second factor it must use", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      await assert.rejects(
        bootstrapFirstAdmin(ctx, { email: "a@x.example", password: "short" }),
        code("BAD_INPUT"),
      );
      const first = await bootstrapFirstAdmin(ctx, { email: "Admin@X.example", password: PASSWORD });
      assert.equal(first.user.email, "admin@x.example");
      assert.equal(first.user.role, "admin");
      await assert.rejects(
        bootstrapFirstAdmin(ctx, { email: "b@x.example", password: PASSWORD }),
        code("CONFLICT"),
      );
      await assert.rejects(signIn(ctx, { email: "admin@x.example", password: PASSWORD }), /authenticator/);
      await assert.rejects(
        signIn(ctx, { email: "admin@x.example", password: PASSWORD, totp: "000000" }),
        code("UNAUTHENTICATED"),
      );
      const s = await signIn(ctx, {
        email: "admin@x.example",
        password: PASSWORD,
        totp: totpCode(first.totp.secret),
      });
      assert.equal((await authenticateSession(ctx, s.token))?.role, "admin");
      const stored = await db.query<{ password_hash: string; totp_secret: Uint8Array }>(
        "SELECT password_hash, totp_secret FROM users WHERE email = 'admin@x.example'",
      );
      assert.match(stored.rows[0]?.password_hash ?? "", /^\$argon2id\$/);
      assert.ok(
        !Buffer.from(stored.rows[0]?.totp_secret ?? [])
          .toString("latin1")
          .includes(first.totp.secret),
      );
    });

    it("refuses a wrong password the same way as an unknown account", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      await createUser(ctx, cliActor, { email: "viewer@x.example", role: "viewer", password: PASSWORD });
      const wrong = await signIn(ctx, { email: "viewer@x.example", password: "not the password" }).catch(
        (e) => e,
      );
      const unknown = await signIn(ctx, { email: "nobody@x.example", password: PASSWORD }).catch((e) => e);
      assert.ok(wrong instanceof AppError && unknown instanceof AppError);
      assert.equal(wrong.message, unknown.message);
    });

    it("ends a disabled account's sessions, and promotes to admin only with a second factor", async (t) => {
      if (backend.skip) return t.skip(backend.skip);
      const { user } = await createUser(ctx, cliActor, {
        email: "resp@x.example",
        role: "responder",
        password: PASSWORD,
      });
      const s = await signIn(ctx, { email: "resp@x.example", password: PASSWORD });
      assert.ok(await authenticateSession(ctx, s.token));
      await assert.rejects(updateUser(ctx, cliActor, user.id, { role: "admin" }), code("CONFLICT"));
      await assert.rejects(
        updateUser(ctx, { kind: "user", userId: user.id, role: "responder", label: "x" }, user.id, {
          role: "viewer",
        }),
        code("FORBIDDEN"),
      );
      await updateUser(ctx, cliActor, user.id, { disabled: true });
      assert.equal(await authenticateSession(ctx, s.token), null);
      await assert.rejects(
        signIn(ctx, { email: "resp@x.example", password: PASSWORD }),
        code("UNAUTHENTICATED"),
      );
    });
  });
}
