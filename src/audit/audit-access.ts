import type { Context } from "../app/context.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import {
  type AuditEvent,
  type AuditVerification,
  type ListAuditOptions,
  listAudit,
  type VerifyAuditOptions,
  verifyAudit,
} from "./audit-log.ts";

/** Reading the audit log is for admins: it shows who looked at whose data. */
export async function readAuditLog(
  ctx: Pick<Context, "db">,
  actor: Actor,
  opts: ListAuditOptions,
): Promise<AuditEvent[]> {
  requireRole(actor, "admin", "reading the audit log");
  return listAudit(ctx.db, opts);
}

export async function checkAuditLog(
  ctx: Pick<Context, "db">,
  actor: Actor,
  opts: VerifyAuditOptions = {},
): Promise<AuditVerification> {
  requireRole(actor, "admin", "verifying the audit log");
  return verifyAudit(ctx.db, opts);
}
