import { AppError } from "../lib/errors.ts";

/**
 * Who may do what. Roles are ranked: each can do everything the ones below it can.
 * - viewer: incidents, vendors, timelines, decisions, summaries and obligations (no personal data)
 * - analyst: + upload datasets, set mappings, run analyses, read affected people and orgs
 * - responder: + create and change incidents, clocks, timeline entries, decisions and vendors
 * - admin: + users, API tokens of others, the audit log, purges
 */
export const ROLES = ["viewer", "analyst", "responder", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting: a signed-in user, an API token, a CLI run on the store's machine, or the system. */
export type Actor = Readonly<{
  kind: "user" | "token" | "cli" | "system";
  userId?: string;
  role: Role;
  /** what the audit log records as the actor, e.g. "user:<id>", "token:<id>", "cli", "system" */
  label: string;
}>;

export const systemActor: Actor = Object.freeze({ kind: "system", role: "admin", label: "system" });
export const cliActor: Actor = Object.freeze({ kind: "cli", role: "admin", label: "cli" });

export function hasRole(actor: Actor, needed: Role): boolean {
  return ROLES.indexOf(actor.role) >= ROLES.indexOf(needed);
}

/** Every use case checks again, so no transport can forget. */
export function requireRole(actor: Actor, needed: Role, what: string): void {
  if (!hasRole(actor, needed)) {
    throw new AppError("FORBIDDEN", `${what} needs the ${needed} role (you are ${actor.role})`);
  }
}
