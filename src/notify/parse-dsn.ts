import PostalMime, { type Attachment } from "postal-mime";
import { AppError } from "../lib/errors.ts";

export type DsnRecipient = {
  /** from Final-Recipient (rfc822;addr), else Original-Recipient; trimmed, lower-cased */
  email: string | null;
  /** Action: failed | delayed | delivered | relayed | expanded (lower-case) */
  action: string;
  /** Status, e.g. "5.1.1" */
  status: string | null;
  /** Diagnostic-Code without its type prefix, e.g. "550 5.1.1 user unknown"; control chars removed, max 500 chars */
  diagnostic: string | null;
  /** true when action is failed and status class is 5 (permanent) */
  hard: boolean;
};

export type ParsedDsn = {
  /** Message-ID of the original message (from the returned message/headers part), with angle brackets, e.g. "<a.1@example.com>", or null */
  originalMessageId: string | null;
  recipients: DsnRecipient[];
};

const MAX_DIAGNOSTIC = 500;

// RFC 6533 (internationalised DSNs) uses the message/global-* variants with the same field syntax.
const STATUS_TYPES = new Set(["message/delivery-status", "message/global-delivery-status"]);
const ORIGINAL_TYPES = new Set([
  "message/rfc822",
  "text/rfc822-headers",
  "message/global",
  "message/global-headers",
]);

const utf8 = new TextDecoder("utf-8");

/**
 * Parses a bounce into the recipients it reports on.
 *
 * A proper RFC 3464 report is read from its message/delivery-status part. Old-style bounces (Exim and
 * friends) that carry no such part but name the failed addresses in `X-Failed-Recipients` are accepted
 * too: those recipients are reported as hard failures with a null status, since such bounces are only
 * sent for permanent failures and their free-text body is not worth guessing at.
 *
 * A report whose status part has no per-recipient groups yields an empty recipient list rather than an
 * error, so the caller can still record that a bounce arrived.
 *
 * Throws AppError("BAD_INPUT", ...) when the message is not a delivery status notification.
 */
export async function parseDsn(raw: Buffer | string): Promise<ParsedDsn> {
  let email: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    // Forcing message/rfc822 parts to stay attachments keeps the returned original out of the body and
    // gives us its raw bytes, whatever postal-mime's own report-detection heuristics decide.
    email = await PostalMime.parse(raw, { forceRfc822Attachments: true, attachmentEncoding: "arraybuffer" });
  } catch (error) {
    throw new AppError("BAD_INPUT", "bounce message could not be parsed as MIME", { cause: error });
  }

  const originalMessageId = findOriginalMessageId(email.attachments);

  const statusParts = email.attachments.filter((a) => STATUS_TYPES.has(a.mimeType));
  if (statusParts.length > 0) {
    const recipients: DsnRecipient[] = [];
    for (const part of statusParts) {
      for (const group of parseFieldGroups(contentText(part))) {
        const recipient = toRecipient(group);
        if (recipient) recipients.push(recipient);
      }
    }
    return { originalMessageId, recipients };
  }

  const failed = email.headers
    .filter((h) => h.key === "x-failed-recipients")
    .flatMap((h) => splitAddresses(h.value));
  if (failed.length > 0) {
    const recipients = [...new Set(failed)].map(
      (address): DsnRecipient => ({
        email: address,
        action: "failed",
        status: null,
        diagnostic: null,
        hard: true,
      }),
    );
    return { originalMessageId, recipients };
  }

  throw new AppError("BAD_INPUT", "not a delivery status notification (no message/delivery-status part)");
}

type FieldGroup = Map<string, string>;

function contentText(part: Attachment): string {
  const { content } = part;
  return typeof content === "string" ? content : utf8.decode(content);
}

/**
 * Splits header-style text into blank-line separated groups of unfolded fields. For a full message only
 * the first group (its header) is meaningful; callers that want that take groups[0].
 */
function parseFieldGroups(text: string): FieldGroup[] {
  const groups: FieldGroup[] = [];
  let current: FieldGroup | null = null;
  let lastName: string | null = null;

  for (const line of text.split(/\r?\n|\r/)) {
    // Whitespace-only lines are treated as separators: some MTAs emit them, and a continuation of
    // nothing is meaningless anyway.
    if (line.trim() === "") {
      current = null;
      lastName = null;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (current && lastName !== null)
        current.set(lastName, `${current.get(lastName) ?? ""} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!current) {
      current = new Map();
      groups.push(current);
    }
    // The first occurrence wins so a repeated field cannot override what the reporting MTA put first.
    if (!current.has(name)) {
      current.set(name, line.slice(colon + 1).trim());
      lastName = name;
    } else {
      lastName = null;
    }
  }
  return groups;
}

function toRecipient(group: FieldGroup): DsnRecipient | null {
  const finalRecipient = group.get("final-recipient");
  const originalRecipient = group.get("original-recipient");
  const actionField = group.get("action");
  // Per-message groups (Reporting-MTA, Arrival-Date...) carry none of these. Keying on content rather
  // than position also copes with reports that omit the per-message group altogether.
  if (finalRecipient === undefined && originalRecipient === undefined && actionField === undefined)
    return null;

  const email = recipientAddress(finalRecipient) ?? recipientAddress(originalRecipient);
  const action = (actionField ?? "").split(/[\s(]/, 1)[0]?.toLowerCase() ?? "";
  const status = /^\d\.\d{1,3}\.\d{1,3}/.exec(group.get("status") ?? "")?.[0] ?? null;
  const diagnostic = cleanDiagnostic(group.get("diagnostic-code"));
  return {
    email,
    action,
    status,
    diagnostic,
    hard: action === "failed" && status?.startsWith("5.") === true,
  };
}

/** Takes the address out of an "address-type; address" value, accepting only mail address types. */
function recipientAddress(value: string | undefined): string | null {
  if (value === undefined) return null;
  const semi = value.indexOf(";");
  let address = value;
  if (semi >= 0) {
    const type = value.slice(0, semi).trim().toLowerCase();
    // x400 and other address types cannot be matched against the addresses we sent to.
    if (type !== "rfc822" && type !== "utf-8") return null;
    address = value.slice(semi + 1);
  }
  address = address
    .trim()
    .replace(/^<(.*)>$/, "$1")
    .trim()
    .toLowerCase();
  return address === "" ? null : address;
}

function cleanDiagnostic(value: string | undefined): string | null {
  if (value === undefined) return null;
  const semi = value.indexOf(";");
  // Only strip a leading diagnostic-type token ("smtp;", "X-Postfix;"), never a semicolon in the text.
  const text =
    semi >= 0 && /^[A-Za-z][A-Za-z0-9-]*$/.test(value.slice(0, semi).trim()) ? value.slice(semi + 1) : value;
  const cleaned = stripControl(text).replace(/\s+/g, " ").trim().slice(0, MAX_DIAGNOSTIC).trim();
  return cleaned === "" ? null : cleaned;
}

// Diagnostic text comes from a remote server and ends up in logs and UIs, so control characters are
// dropped; tabs become spaces first so folded words do not run together.
function stripControl(text: string): string {
  let out = "";
  for (const ch of text.replace(/\t/g, " ")) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) continue;
    out += ch;
  }
  return out;
}

function findOriginalMessageId(attachments: Attachment[]): string | null {
  for (const part of attachments) {
    if (!ORIGINAL_TYPES.has(part.mimeType)) continue;
    const header = parseFieldGroups(contentText(part))[0];
    const value = header?.get("message-id");
    if (!value) continue;
    const bracketed = /<[^<>\s]+>/.exec(value)?.[0];
    if (bracketed) return bracketed;
    const bare = value.trim();
    if (bare !== "" && !/\s/.test(bare)) return `<${bare}>`;
  }
  return null;
}

function splitAddresses(value: string): string[] {
  return value
    .split(",")
    .map((a) =>
      a
        .trim()
        .replace(/^<(.*)>$/, "$1")
        .trim()
        .toLowerCase(),
    )
    .filter((a) => a.includes("@"));
}
