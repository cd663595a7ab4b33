import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { AppError, badInput } from "../lib/errors.ts";
import type { Queryable } from "../store/db.ts";
import { checkPasswordPolicy, hashPassword } from "./passwords.ts";
import { type Actor, ROLES, type Role, requireRole } from "./roles.ts";
import { newTotpSecret, totpUri, verifyTotp } from "./totp.ts";

export type User = {
  id: string;
  email: string;
  display_name: string | null;
  role: Role;
  totp_enabled: boolean;
  created_at: string;
  disabled: boolean;
};

/** Shown once, when a second factor is set up; the server keeps only the sealed secret. */
export type TotpEnrollment = { secret: string; otpauth_uri: string };

type UserRow = {
  id: string;
  email: string;
  display_name: string | null;
  role: Role;
  totp_enabled_at: Date | null;
  created_at: Date;
  disabled_at: Date | null;
};

const USER_COLUMNS = "id, email, display_name, role, totp_enabled_at, created_at, disabled_at";

export function toUser(r: UserRow): User {
  return {
    id: r.id,
    email: r.email,
    display_name: r.display_name,
    role: r.role,
    totp_enabled: r.totp_enabled_at !== null,
    created_at: new Date(r.created_at).toISOString(),
    disabled: r.disabled_at !== null,
  };
}

export function normalizeEmail(email: string, field = "email"): string {
  const e = email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e) || e.length > 320)
    throw badInput(`${field}: not an email address`);
  return e;
}

function parseRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw badInput(`role: ${JSON.stringify(role)} is not one of ${ROLES.join(", ")}`);
  }
  return role as Role;
}

export async function countUsers(ctx: Pick<Context, "db">): Promise<number> {
  const r = await ctx.db.query<{ n: number }>("SELECT count(*)::int AS n FROM users");
  return r.rows[0]?.n ?? 0;
}

export async function getUser(q: Queryable, id: string): Promise<User> {
  const r = await q.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  const row = r.rows[0];
  if (!row) throw new AppError("NOT_FOUND", `no user ${id}`);
  return toUser(row);
}

async function insertUser(
  ctx: Pick<Context, "db" | "sealer">,
  tx: Queryable,
  input: { email: string; displayName?: string | null; role: Role; password: string },
): Promise<{ user: User; totp?: TotpEnrollment }> {
  const email = normalizeEmail(input.email);
  checkPasswordPolicy(input.password);
  const taken = await tx.query("SELECT 1 FROM users WHERE email = $1", [email]);
  if (taken.rows.length > 0) throw new AppError("CONFLICT", `email: an account for ${email} exists already`);
  // Admins must use a second factor, so theirs is set up with the account and shown once.
  const secret = input.role === "admin" ? newTotpSecret() : null;
  const r = await tx.query<UserRow>(
    `INSERT INTO users (email, display_name, role, password_hash, totp_secret, totp_enabled_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLUMNS}`,
    [
      email,
      input.displayName ?? null,
      input.role,
      await hashPassword(input.password),
      secret ? ctx.sealer.seal(secret) : null,
      secret ? new Date() : null,
    ],
  );
  const user = toUser(r.rows[0] as UserRow);
  return { user, ...(secret ? { totp: { secret, otpauth_uri: totpUri(secret, email) } } : {}) };
}

/**
 * The first admin, when no account exists yet. The caller proves it may do this with a one-time
 * code printed by the server at start-up (or by running the CLI on the store's machine): there is
 * never a default password.
 */
export async function bootstrapFirstAdmin(
  ctx: Pick<Context, "db" | "sealer">,
  input: { email: string; displayName?: string | null; password: string },
): Promise<{ user: User; totp: TotpEnrollment }> {
  return ctx.db.transaction(async (tx) => {
    // Serialise two bootstraps racing each other; only the first may create the admin.
    await tx.query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE");
    const n = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM users");
    if ((n.rows[0]?.n ?? 0) > 0)
      throw new AppError("CONFLICT", "the first admin exists already: sign in instead");
    const created = await insertUser(ctx, tx, { ...input, role: "admin" });
    await appendAudit(
      tx,
      { kind: "system", role: "admin", label: `user:${created.user.id}` },
      "user.bootstrap",
      `user:${created.user.id}`,
      {
        role: "admin",
      },
    );
    return { user: created.user, totp: created.totp as TotpEnrollment };
  });
}

export async function createUser(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  input: { email: string; displayName?: string | null; role: string; password: string },
): Promise<{ user: User; totp?: TotpEnrollment }> {
  requireRole(actor, "admin", "creating accounts");
  const role = parseRole(input.role);
  return ctx.db.transaction(async (tx) => {
    const created = await insertUser(ctx, tx, { ...input, role });
    await appendAudit(tx, actor, "user.create", `user:${created.user.id}`, { role });
    return created;
  });
}

export async function listUsers(ctx: Pick<Context, "db">, actor: Actor): Promise<User[]> {
  requireRole(actor, "admin", "listing accounts");
  const r = await ctx.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, id`);
  return r.rows.map(toUser);
}

export async function updateUser(
  ctx: Pick<Context, "db">,
  actor: Actor,
  id: string,
  input: { role?: string; disabled?: boolean; displayName?: string | null },
): Promise<User> {
  requireRole(actor, "admin", "changing accounts");
  return ctx.db.transaction(async (tx) => {
    const current = await getUser(tx, id);
    const role = input.role === undefined ? current.role : parseRole(input.role);
    if (role === "admin" && current.role !== "admin" && !current.totp_enabled) {
      throw new AppError(
        "CONFLICT",
        "role: admins must use a second factor; the user sets one up first (POST /api/v1/me/totp)",
      );
    }
    if (actor.userId === id && (role !== "admin" || input.disabled)) {
      throw new AppError("CONFLICT", "you cannot demote or disable your own account");
    }
    await tx.query(
      `UPDATE users SET role = $2, display_name = $3, updated_at = now(),
         disabled_at = CASE WHEN $4::boolean IS NULL THEN disabled_at WHEN $4 THEN coalesce(disabled_at, now()) ELSE NULL END
       WHERE id = $1`,
      [
        id,
        role,
        input.displayName === undefined ? current.display_name : input.displayName,
        input.disabled ?? null,
      ],
    );
    // A disabled account loses its sessions and tokens at once.
    if (input.disabled) {
      await tx.query("DELETE FROM sessions WHERE user_id = $1", [id]);
      await tx.query("UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", [
        id,
      ]);
    }
    await appendAudit(tx, actor, "user.update", `user:${id}`, {
      role,
      ...(input.disabled === undefined ? {} : { disabled: input.disabled }),
    });
    return getUser(tx, id);
  });
}

export async function changePassword(
  ctx: Pick<Context, "db">,
  actor: Actor,
  password: string,
): Promise<void> {
  if (!actor.userId) throw new AppError("FORBIDDEN", "only a signed-in user has a password to change");
  checkPasswordPolicy(password);
  const hash = await hashPassword(password);
  await ctx.db.transaction(async (tx) => {
    await tx.query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", [
      actor.userId,
      hash,
    ]);
    await appendAudit(tx, actor, "user.password", `user:${actor.userId}`);
  });
}

/** Starts (or restarts) a second-factor enrollment; it takes effect once a code confirms it. */
export async function startTotpEnrollment(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
): Promise<TotpEnrollment> {
  if (!actor.userId) throw new AppError("FORBIDDEN", "only a signed-in user can set up a second factor");
  const user = await getUser(ctx.db, actor.userId);
  if (user.totp_enabled) throw new AppError("CONFLICT", "a second factor is set up already");
  const secret = newTotpSecret();
  await ctx.db.query("UPDATE users SET totp_secret = $2, updated_at = now() WHERE id = $1", [
    actor.userId,
    ctx.sealer.seal(secret),
  ]);
  return { secret, otpauth_uri: totpUri(secret, user.email) };
}

export async function confirmTotp(
  ctx: Pick<Context, "db" | "sealer">,
  actor: Actor,
  code: string,
): Promise<User> {
  if (!actor.userId) throw new AppError("FORBIDDEN", "only a signed-in user can set up a second factor");
  return ctx.db.transaction(async (tx) => {
    const r = await tx.query<{ totp_secret: Uint8Array | null }>(
      "SELECT totp_secret FROM users WHERE id = $1",
      [actor.userId],
    );
    const sealed = r.rows[0]?.totp_secret;
    if (!sealed) throw new AppError("CONFLICT", "start the enrollment first (POST /api/v1/me/totp)");
    if (!verifyTotp(ctx.sealer.openText(Buffer.from(sealed)), code))
      throw badInput("code: not the current code");
    await tx.query("UPDATE users SET totp_enabled_at = now(), updated_at = now() WHERE id = $1", [
      actor.userId,
    ]);
    await appendAudit(tx, actor, "user.totp_enabled", `user:${actor.userId}`);
    return getUser(tx, actor.userId as string);
  });
}
