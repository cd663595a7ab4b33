import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { getUser, normalizeEmail, type User } from "./accounts.ts";
import { verifyPassword } from "./passwords.ts";
import { type Actor, type Role, requireRole } from "./roles.ts";
import { verifyTotp } from "./totp.ts";

/**
 * Sessions and API tokens are random secrets handed out once; the store keeps only their SHA-256,
 * so a copy of the database does not let anyone in.
 */

export const SESSION_HOURS = 12;
const TOKEN_PREFIX = "brt_";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const secret = () => randomBytes(32).toString("base64url");

/**
 * The CSRF token of a cookie session is derived from the session secret: a page on another origin
 * cannot read the cookie, so it cannot compute the token either, and nothing extra is stored.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac("sha256", sessionToken).update("blastradius csrf").digest("base64url");
}

export function csrfTokenMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type Credentials = { email: string; password: string; totp?: string };

const userActor = (u: { id: string; role: Role }): Actor => ({
  kind: "user",
  userId: u.id,
  role: u.role,
  label: `user:${u.id}`,
});

export async function signIn(
  ctx: Pick<Context, "db" | "sealer">,
  input: Credentials,
): Promise<{ token: string; csrf_token: string; expires_at: string; user: User }> {
  const refused = () => new AppError("UNAUTHENTICATED", "wrong email, password or code");
  let email: string;
  try {
    email = normalizeEmail(input.email);
  } catch {
    throw refused();
  }
  const r = await ctx.db.query<{
    id: string;
    role: Role;
    password_hash: string | null;
    totp_secret: Uint8Array | null;
    totp_enabled_at: Date | null;
    disabled_at: Date | null;
  }>(
    "SELECT id, role, password_hash, totp_secret, totp_enabled_at, disabled_at FROM users WHERE email = $1",
    [email],
  );
  const row = r.rows[0];
  const passwordOk = await verifyPassword(row?.password_hash ?? null, input.password);
  if (!row || !passwordOk || row.disabled_at) throw refused();
  if (row.totp_enabled_at) {
    if (!input.totp)
      throw new AppError("UNAUTHENTICATED", "totp: this account needs the code from its authenticator");
    if (!row.totp_secret || !verifyTotp(ctx.sealer.openText(Buffer.from(row.totp_secret)), input.totp)) {
      throw refused();
    }
  } else if (row.role === "admin") {
    throw new AppError("UNAUTHENTICATED", "admins must use a second factor, and this account has none");
  }
  const token = secret();
  const expires = new Date(Date.now() + SESSION_HOURS * 3600_000);
  await ctx.db.transaction(async (tx) => {
    await tx.query("INSERT INTO sessions (user_id, token_hash, expires_at) VALUES ($1, $2, $3)", [
      row.id,
      sha256(token),
      expires,
    ]);
    await tx.query("DELETE FROM sessions WHERE user_id = $1 AND expires_at < now()", [row.id]);
    await appendAudit(tx, userActor(row), "session.sign_in", `user:${row.id}`);
  });
  return {
    token,
    csrf_token: csrfTokenFor(token),
    expires_at: expires.toISOString(),
    user: await getUser(ctx.db, row.id),
  };
}

export async function authenticateSession(ctx: Pick<Context, "db">, token: string): Promise<Actor | null> {
  const r = await ctx.db.query<{ id: string; role: Role }>(
    `UPDATE sessions s SET last_seen_at = now() FROM users u
     WHERE s.token_hash = $1 AND s.expires_at > now() AND u.id = s.user_id AND u.disabled_at IS NULL
     RETURNING u.id, u.role`,
    [sha256(token)],
  );
  const u = r.rows[0];
  return u ? userActor(u) : null;
}

export async function signOut(ctx: Pick<Context, "db">, actor: Actor, token: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await tx.query("DELETE FROM sessions WHERE token_hash = $1", [sha256(token)]);
    await appendAudit(tx, actor, "session.sign_out", actor.userId ? `user:${actor.userId}` : null);
  });
}

export type ApiToken = {
  id: string;
  name: string;
  prefix: string;
  user_id: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked: boolean;
};

type TokenRow = {
  id: string;
  name: string;
  prefix: string;
  user_id: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
};

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const toToken = (r: TokenRow): ApiToken => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  user_id: r.user_id,
  created_at: new Date(r.created_at).toISOString(),
  last_used_at: iso(r.last_used_at),
  expires_at: iso(r.expires_at),
  revoked: r.revoked_at !== null,
});
const TOKEN_COLUMNS = "id, name, prefix, user_id, created_at, last_used_at, expires_at, revoked_at";

/** A token acts with its owner's role; it is shown once and stored hashed. */
export async function createApiToken(
  ctx: Pick<Context, "db">,
  actor: Actor,
  input: { name: string; expiresInDays?: number },
): Promise<{ token: string; api_token: ApiToken }> {
  requireRole(actor, "viewer", "creating an API token");
  if (!actor.userId || actor.kind !== "user") {
    throw new AppError("FORBIDDEN", "API tokens are created by a signed-in user (not by another token)");
  }
  const name = input.name.trim();
  if (!name || name.length > 100) throw badInput("name: 1 to 100 characters");
  const token = `${TOKEN_PREFIX}${secret()}`;
  const expires = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86400_000) : null;
  return ctx.db.transaction(async (tx) => {
    const r = await tx.query<TokenRow>(
      `INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${TOKEN_COLUMNS}`,
      [actor.userId, name, sha256(token), token.slice(0, 10), expires],
    );
    const created = toToken(r.rows[0] as TokenRow);
    await appendAudit(tx, actor, "api_token.create", `api_token:${created.id}`);
    return { token, api_token: created };
  });
}

export function looksLikeApiToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX);
}

export async function authenticateApiToken(ctx: Pick<Context, "db">, token: string): Promise<Actor | null> {
  const r = await ctx.db.query<{ id: string; user_id: string; role: Role }>(
    `UPDATE api_tokens t SET last_used_at = now() FROM users u
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
       AND u.id = t.user_id AND u.disabled_at IS NULL
     RETURNING t.id, t.user_id, u.role`,
    [sha256(token)],
  );
  const t = r.rows[0];
  return t ? { kind: "token", userId: t.user_id, role: t.role, label: `token:${t.id}` } : null;
}

export async function listApiTokens(ctx: Pick<Context, "db">, actor: Actor): Promise<ApiToken[]> {
  requireRole(actor, "viewer", "listing API tokens");
  // Admins see every token so they can revoke a leaked one; others see their own.
  const all = actor.role === "admin";
  const r = await ctx.db.query<TokenRow>(
    `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE $1 OR user_id = $2 ORDER BY created_at, id`,
    [all, actor.userId ?? null],
  );
  return r.rows.map(toToken);
}

export async function revokeApiToken(ctx: Pick<Context, "db">, actor: Actor, id: string): Promise<void> {
  requireRole(actor, "viewer", "revoking an API token");
  await ctx.db.transaction(async (tx) => {
    const r = await tx.query<{ user_id: string }>("SELECT user_id FROM api_tokens WHERE id = $1", [id]);
    const owner = r.rows[0]?.user_id;
    if (!owner || (owner !== actor.userId && actor.role !== "admin"))
      throw new AppError("NOT_FOUND", `no API token ${id}`);
    await tx.query("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", [id]);
    await appendAudit(tx, actor, "api_token.revoke", `api_token:${id}`);
  });
}
