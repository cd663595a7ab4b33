import nodemailer from "nodemailer";
import { AppError } from "../lib/errors.ts";

/**
 * Where rendered messages go. SMTP hands them to a relay through nodemailer's pooled connections; the
 * outbox keeps them in the store (sealed), written in the same transaction that marks them sent.
 */

export type Outcome =
  | { kind: "sent"; reply: string; store?: Buffer }
  /** 4xx or a dropped connection: try again later with the same Message-ID */
  | { kind: "temporary"; reply: string }
  /** 5xx: the relay will never take this message */
  | { kind: "permanent"; reply: string };

export type OutgoingMessage = { envelopeFrom: string; to: string; raw: Buffer };

export type Transport = {
  /** for messages and the audit log; never holds a password */
  readonly describe: string;
  send(message: OutgoingMessage): Promise<Outcome>;
  close(): Promise<void>;
};

export function outboxTransport(): Transport {
  return {
    describe: "outbox",
    async send(message) {
      return { kind: "sent", reply: "stored in the outbox", store: message.raw };
    },
    async close() {},
  };
}

/** The relay as `smtp://host:port` without user or password. */
export function describeSmtpUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ""}`;
  } catch {
    return "(unparsable SMTP URL)";
  }
}

export function parseSmtpUrl(url: string, flag: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AppError(
      "USAGE",
      `${flag} must be a URL like smtp://host:587 or smtps://user:password@host:465`,
    );
  }
  if (u.protocol !== "smtp:" && u.protocol !== "smtps:") {
    throw new AppError("USAGE", `${flag} must start with smtp:// or smtps:// (got ${u.protocol}//)`);
  }
  if (!u.hostname) throw new AppError("USAGE", `${flag} has no host`);
  return u;
}

type SmtpError = Error & { code?: string; originalCode?: string; responseCode?: number; response?: string };

// Errors that say the relay itself is unusable (wrong address, refused, bad credentials): no
// recipient is at fault, so the campaign stops and stays resumable instead of burning attempts.
const FATAL_CODES = new Set([
  "EAUTH",
  "ENOAUTH",
  "EDNS",
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETLS",
  "EOAUTH2",
]);

export function smtpTransport(url: string, options: { connections: number }): Transport {
  const relay = describeSmtpUrl(url);
  const u = parseSmtpUrl(url, "the SMTP URL");
  const secure = u.protocol === "smtps:";
  const transporter = nodemailer.createTransport({
    pool: true,
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    auth: u.username
      ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
      : undefined,
    maxConnections: options.connections,
    maxMessages: Number.POSITIVE_INFINITY,
  });
  return {
    describe: relay,
    async send(message) {
      try {
        const info = await transporter.sendMail({
          envelope: { from: message.envelopeFrom, to: [message.to] },
          raw: message.raw,
        });
        return { kind: "sent", reply: String(info.response ?? "250") };
      } catch (error) {
        const e = error as SmtpError;
        const reply = oneLine(e.response ?? `${e.code ?? "error"}: ${e.message}`);
        if (e.responseCode && e.responseCode >= 500) return { kind: "permanent", reply };
        if (e.responseCode && e.responseCode >= 400) return { kind: "temporary", reply };
        // nodemailer files a refused connection under ECONNECTION and keeps the system's code apart
        const code = [e.code, e.originalCode].find((c) => c && FATAL_CODES.has(c));
        if (code) {
          throw new AppError(
            "WORK_FAILED",
            `the SMTP relay ${relay} cannot be used (${code}: ${oneLine(e.message)})`,
          );
        }
        return { kind: "temporary", reply };
      }
    },
    async close() {
      transporter.close();
    },
  };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 500);
}
