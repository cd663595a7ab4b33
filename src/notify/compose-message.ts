import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import DKIM from "nodemailer/lib/dkim";
import MailComposer from "nodemailer/lib/mail-composer";
import { AppError } from "../lib/errors.ts";
import type { RenderedNotice } from "./notice-types.ts";

/**
 * One notice as a complete RFC 5322 message, built by nodemailer's composer and signed by its DKIM
 * signer. The sender hands SMTP the finished bytes, so the Message-ID, the signature and the body a
 * receiver sees are exactly the ones the ledger and the outbox record.
 */

export type DkimOptions = { domain: string; selector: string; privateKey: string };

export type MessageEnvelope = {
  /** an address, or `Name <address>` */
  from: string;
  to: { name: string | null; email: string };
  messageId: string;
  replyTo?: string | null;
};

/** A control character in a display name could end a header line; the renderer strips them too. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

export function withoutControls(text: string): string {
  return text.replace(CONTROL, " ").trim();
}

export function createSigner(dkim: DkimOptions | null): DKIM | null {
  if (!dkim) return null;
  return new DKIM({ domainName: dkim.domain, keySelector: dkim.selector, privateKey: dkim.privateKey });
}

export async function composeMessage(
  notice: RenderedNotice,
  envelope: MessageEnvelope,
  signer: DKIM | null,
): Promise<Buffer> {
  const name = envelope.to.name ? withoutControls(envelope.to.name) : null;
  const raw = await new MailComposer({
    from: envelope.from,
    to: name ? { name, address: envelope.to.email } : envelope.to.email,
    replyTo: envelope.replyTo ?? undefined,
    subject: notice.subject,
    messageId: envelope.messageId,
    text: notice.text,
    html: notice.html,
    headers: { "Content-Language": notice.locale },
    // base64 for every part: every client reads it, and it builds in half the time of the
    // quoted-printable that would otherwise be picked for non-ASCII text
    textEncoding: "base64",
  })
    .compile()
    .build();
  if (!signer) return raw;
  const chunks: Buffer[] = [];
  for await (const chunk of signer.sign(raw)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads and checks a DKIM private key file, so a wrong file stops the campaign before anything is sent. */
export function loadDkimKey(file: string, flag: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    throw new AppError(
      "USAGE",
      `${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new AppError("USAGE", `${flag}: ${file} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new AppError(
      "USAGE",
      `${flag}: ${file} holds a ${key.asymmetricKeyType} key; DKIM signing here needs RSA`,
    );
  }
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 1024) {
    throw new AppError("USAGE", `${flag}: ${file} holds an RSA key under 1024 bits, which receivers ignore`);
  }
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}

/** The bare address of `Name <address>` (or of a bare address). */
export function addressOf(from: string): string {
  return (/<([^<>]+)>\s*$/.exec(from)?.[1] ?? from).trim();
}

/** The domain of an address or `Name <address>`. */
export function domainOf(address: string): string | null {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(address.trim());
  return m?.[1] ? m[1].toLowerCase() : null;
}
