import { createHash } from "node:crypto";

/** The prev_hash of event 1: the chain has to start from something every verifier agrees on. */
export const GENESIS_HASH = "0".repeat(64);

/** What an event's hash covers: every column, so no column can change unnoticed. */
export type HashedFields = {
  seq: number;
  /** ISO-8601 in UTC with milliseconds, exactly as Date.prototype.toISOString writes it */
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  detail: unknown;
  prevHash: string;
};

/**
 * JSON with every object's keys sorted, recursively. jsonb hands keys back in its own order (and
 * drops duplicates), so hashing JSON.stringify output would make an untouched event look edited.
 * Accepts only what JSON can carry, so a hash never silently covers a value the database dropped.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(",")}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`canonicalJson: a ${proto?.constructor?.name ?? "non-plain"} object is not JSON`);
      }
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
      return `{${members.join(",")}}`;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} is not JSON`);
  }
}

/** SHA-256 (hex) of the canonical JSON of the event's columns, prev_hash included to chain it. */
export function hashEvent(e: HashedFields): string {
  const payload = canonicalJson({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    detail: e.detail,
    prev_hash: e.prevHash,
  });
  return createHash("sha256").update(payload, "utf8").digest("hex");
}
