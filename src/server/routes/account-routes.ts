import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Context } from "../../app/context.ts";
import {
  bootstrapFirstAdmin,
  changePassword,
  confirmTotp,
  createUser,
  getUser,
  listUsers,
  startTotpEnrollment,
  updateUser,
} from "../../auth/accounts.ts";
import { ROLES } from "../../auth/roles.ts";
import {
  createApiToken,
  csrfTokenFor,
  listApiTokens,
  revokeApiToken,
  SESSION_HOURS,
  signIn,
  signOut,
} from "../../auth/sessions.ts";
import { AppError } from "../../lib/errors.ts";
import { actorOf, SESSION_COOKIE } from "../authenticate.ts";
import type { App, ServerOptions } from "../build-server.ts";
import { apiToken, idParam, totpEnrollment, user } from "../schemas.ts";

const sameCode = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export async function accountRoutes(
  app: App,
  ctx: Context,
  options: ServerOptions & { rate: { max: number; timeWindow: string } },
): Promise<void> {
  const limited = { rateLimit: options.rate };

  app.get(
    "/health",
    {
      config: { role: "public" },
      schema: {
        tags: ["system"],
        summary: "Liveness, and whether the first admin still has to be created",
        response: { 200: z.object({ ok: z.boolean(), needs_bootstrap: z.boolean() }) },
      },
    },
    async () => ({ ok: true, needs_bootstrap: options.bootstrapCode() !== null }),
  );

  app.post(
    "/bootstrap",
    {
      config: { role: "public", ...limited },
      schema: {
        tags: ["accounts"],
        summary: "Create the first admin with the one-time code the server printed at start-up",
        body: z.object({
          code: z.string().min(1),
          email: z.string(),
          password: z.string(),
          display_name: z.string().max(200).optional(),
        }),
        response: { 201: z.object({ user, totp: totpEnrollment }) },
      },
    },
    async (request, reply) => {
      const code = options.bootstrapCode();
      if (code === null) throw new AppError("CONFLICT", "the first admin exists already: sign in instead");
      if (!sameCode(code, request.body.code))
        throw new AppError("UNAUTHENTICATED", "code: not the code the server printed");
      const created = await bootstrapFirstAdmin(ctx, {
        email: request.body.email,
        password: request.body.password,
        displayName: request.body.display_name,
      });
      options.onBootstrapped();
      return reply.status(201).send(created);
    },
  );

  app.post(
    "/session",
    {
      config: { role: "public", ...limited },
      schema: {
        tags: ["accounts"],
        summary: "Sign in; sets the session cookie and returns the CSRF token to send with changes",
        body: z.object({ email: z.string(), password: z.string(), totp: z.string().optional() }),
        response: { 200: z.object({ user, csrf_token: z.string(), expires_at: z.string() }) },
      },
    },
    async (request, reply) => {
      const session = await signIn(ctx, request.body);
      reply.setCookie(SESSION_COOKIE, session.token, {
        httpOnly: true,
        sameSite: "strict",
        secure: request.protocol === "https",
        path: "/",
        maxAge: SESSION_HOURS * 3600,
      });
      return { user: session.user, csrf_token: session.csrf_token, expires_at: session.expires_at };
    },
  );

  app.delete(
    "/session",
    {
      config: { role: "viewer" },
      schema: { tags: ["accounts"], summary: "Sign out", response: { 204: z.null() } },
    },
    async (request, reply) => {
      if (request.sessionToken) await signOut(ctx, actorOf(request), request.sessionToken);
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/me",
    {
      config: { role: "viewer" },
      schema: {
        tags: ["accounts"],
        summary: "Who is signed in (and the CSRF token of this session)",
        response: {
          200: z.object({ user, csrf_token: z.string().nullable(), via: z.enum(["session", "token"]) }),
        },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      return {
        user: await getUser(ctx.db, actor.userId as string),
        csrf_token: request.sessionToken ? csrfTokenFor(request.sessionToken) : null,
        via: actor.kind === "token" ? ("token" as const) : ("session" as const),
      };
    },
  );

  app.post(
    "/me/password",
    {
      config: { role: "viewer", ...limited },
      schema: {
        tags: ["accounts"],
        summary: "Change your password",
        body: z.object({ password: z.string() }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await changePassword(ctx, actorOf(request), request.body.password);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/me/totp",
    {
      config: { role: "viewer", ...limited },
      schema: {
        tags: ["accounts"],
        summary: "Start setting up a second factor; confirm it with a code",
        response: { 200: totpEnrollment },
      },
    },
    async (request) => startTotpEnrollment(ctx, actorOf(request)),
  );

  app.post(
    "/me/totp/confirm",
    {
      config: { role: "viewer", ...limited },
      schema: {
        tags: ["accounts"],
        summary: "Confirm the second factor with a current code",
        body: z.object({ code: z.string() }),
        response: { 200: user },
      },
    },
    async (request) => confirmTotp(ctx, actorOf(request), request.body.code),
  );

  app.get(
    "/tokens",
    {
      config: { role: "viewer", ...limited },
      schema: {
        tags: ["accounts"],
        summary: "Your API tokens (admins: everyone's)",
        response: { 200: z.array(apiToken) },
      },
    },
    async (request) => listApiTokens(ctx, actorOf(request)),
  );

  app.post(
    "/tokens",
    {
      config: { role: "viewer", ...limited },
      schema: {
        tags: ["accounts"],
        summary: "Create an API token acting with your role; the token is shown only in this response",
        body: z.object({ name: z.string(), expires_in_days: z.number().int().min(1).max(3650).optional() }),
        response: { 201: z.object({ token: z.string(), api_token: apiToken }) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await createApiToken(ctx, actorOf(request), {
          name: request.body.name,
          expiresInDays: request.body.expires_in_days,
        }),
      ),
  );

  app.delete(
    "/tokens/:id",
    {
      config: { role: "viewer", ...limited },
      schema: {
        tags: ["accounts"],
        summary: "Revoke an API token",
        params: idParam,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await revokeApiToken(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/users",
    {
      config: { role: "admin" },
      schema: { tags: ["accounts"], summary: "All accounts", response: { 200: z.array(user) } },
    },
    async (request) => listUsers(ctx, actorOf(request)),
  );

  app.post(
    "/users",
    {
      config: { role: "admin" },
      schema: {
        tags: ["accounts"],
        summary: "Create an account (an admin's second factor is returned once)",
        body: z.object({
          email: z.string(),
          password: z.string(),
          role: z.enum(ROLES),
          display_name: z.string().max(200).optional(),
        }),
        response: { 201: z.object({ user, totp: totpEnrollment.optional() }) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await createUser(ctx, actorOf(request), {
          email: request.body.email,
          password: request.body.password,
          role: request.body.role,
          displayName: request.body.display_name,
        }),
      ),
  );

  app.patch(
    "/users/:id",
    {
      config: { role: "admin" },
      schema: {
        tags: ["accounts"],
        summary: "Change an account's role, name, or disable it (which ends its sessions and tokens)",
        params: idParam,
        body: z.object({
          role: z.enum(ROLES).optional(),
          disabled: z.boolean().optional(),
          display_name: z.string().max(200).nullable().optional(),
        }),
        response: { 200: user },
      },
    },
    async (request) =>
      updateUser(ctx, actorOf(request), request.params.id, {
        role: request.body.role,
        disabled: request.body.disabled,
        displayName: request.body.display_name,
      }),
  );
}
