import type { FastifyReply, FastifyRequest } from "fastify";
import type { Context } from "../app/context.ts";
import { type Actor, hasRole, type Role } from "../auth/roles.ts";
import {
  authenticateApiToken,
  authenticateSession,
  csrfTokenMatches,
  looksLikeApiToken,
} from "../auth/sessions.ts";

export const SESSION_COOKIE = "blastradius_session";

declare module "fastify" {
  interface FastifyRequest {
    actor: Actor | null;
    /** the session secret when the request came with the session cookie */
    sessionToken: string | null;
  }
  interface FastifyContextConfig {
    /** the least role a route needs, or "public" for sign-in, bootstrap, health and the API document */
    role?: Role | "public";
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const deny = (reply: FastifyReply, status: 401 | 403, code: string, message: string) =>
  reply.status(status).send({ error: { code, message } });

/**
 * Every request is authenticated here, before its body is read: a bearer API token, or the session
 * cookie plus, for anything that changes state, the X-CSRF-Token header that only our own pages can
 * know. A route's declared role is checked here; the use case checks again.
 */
export function authenticate(ctx: Pick<Context, "db">) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    request.actor = null;
    request.sessionToken = null;
    const role = request.routeOptions.config?.role;
    if (role === undefined && request.routeOptions.url === undefined) return; // no such route: 404
    const header = request.headers.authorization;
    if (header !== undefined) {
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      request.actor = token && looksLikeApiToken(token) ? await authenticateApiToken(ctx, token) : null;
      if (!request.actor && role !== "public") {
        return deny(
          reply,
          401,
          "UNAUTHENTICATED",
          "the API token is not valid (revoked, expired or mistyped)",
        );
      }
    } else {
      const session = request.cookies?.[SESSION_COOKIE];
      if (session) {
        request.actor = await authenticateSession(ctx, session);
        if (request.actor) {
          request.sessionToken = session;
          const csrf = request.headers["x-csrf-token"];
          if (
            !SAFE_METHODS.has(request.method) &&
            !csrfTokenMatches(session, typeof csrf === "string" ? csrf : undefined)
          ) {
            return deny(
              reply,
              403,
              "CSRF",
              "send the X-CSRF-Token header from sign-in (GET /api/v1/me) with every change",
            );
          }
        }
      }
    }
    if (role === "public") return;
    if (!request.actor)
      return deny(reply, 401, "UNAUTHENTICATED", "sign in, or send Authorization: Bearer <API token>");
    if (!hasRole(request.actor, role ?? "admin")) {
      return deny(
        reply,
        403,
        "FORBIDDEN",
        `this needs the ${role ?? "admin"} role (you are ${request.actor.role})`,
      );
    }
  };
}

/** The actor of an authenticated route (the hook has refused the request otherwise). */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new Error("route without authentication");
  return request.actor;
}
