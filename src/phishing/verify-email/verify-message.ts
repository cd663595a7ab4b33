import { type AuthenticateResult, authenticate } from "mailauth";
import PostalMime, { type Address, addressParser, type Email } from "postal-mime";
import { AppError, badInput } from "../../lib/errors.ts";
import type { DnsResolver } from "./dns-cache.ts";
import { addressDomain, asciiHost, brandWords, parseOfficialDomains } from "./domains.ts";
import { lookalikeCheck } from "./lookalike-check.ts";
import { messageLinks } from "./message-links.ts";
import {
  type AuthResults,
  type DkimSignature,
  type Mailbox,
  messageReasons,
  type Reason,
  type Verdict,
  verdictOf,
  verdictSummary,
} from "./verdict.ts";

/**
 * "Is this message really from us?": one raw message (RFC 5322, as "show original" gives it) against
 * the company's official domains. mailauth checks DKIM, SPF for the server named by the topmost
 * Received header (the one the reader's own mail server added), DMARC alignment and ARC;
 * postal-mime reads the sender, Reply-To and links; verdict.ts decides. Nothing is stored or logged.
 * Shared by `blastradius verify-email` and POST /api/v1/verify-email.
 */

export type VerifyOptions = Readonly<{
  officialDomains: readonly string[];
  /** where the official domains came from, for the error a bad one gives (default --official) */
  officialDomainsFrom?: string;
  /** where DNS questions go: a DNS cache (offline, repeatable) or the system resolver */
  resolver: DnsResolver;
}>;

export type VerifyResult = Readonly<{
  verdict: Verdict;
  /** the verdict in one plain sentence */
  summary: string;
  reasons: readonly Reason[];
  from: Readonly<{ name: string; address: string; domain: string }> | null;
  auth: AuthResults;
}>;

/** The name mailauth writes into its comments for the checking server (never the host's real name). */
const MTA = "blastradius";

const HEADER_LINE = /^[!-9;-~]+[ \t]*:/;

/**
 * The message as mail servers see it: without a byte-order mark, blank lines or an mbox "From " line
 * before the headers, and with CRLF line ends (a pasted message has LF; DKIM hashes CRLF). Bytes go
 * through latin1, which maps each byte to one character and back, so 8-bit content is unchanged.
 */
export function normaliseMessage(raw: Buffer | string): Buffer {
  let text = Buffer.isBuffer(raw) ? raw.toString("latin1") : Buffer.from(raw, "utf8").toString("latin1");
  text = text.replace(/^(?:\xef\xbb\xbf)?(?:[ \t]*\r?\n)*/, "");
  text = text.replace(/^From (?![ \t]*:)[^\r\n]*\r?\n/, "");
  if (!HEADER_LINE.test(text)) {
    throw badInput(
      "the text is not an email message: it must start with header lines such as “From: …” (paste the whole message source, as “Show original” or “View source” shows it)",
    );
  }
  return Buffer.from(text.replace(/\r?\n/g, "\r\n"), "latin1");
}

const mailboxes = (addresses: readonly Address[] | undefined): Mailbox[] =>
  (addresses ?? []).flatMap((a) =>
    a.group
      ? a.group.map((m) => ({ name: m.name, address: m.address }))
      : [{ name: a.name, address: a.address }],
  );

/** Every address of every From header (postal-mime's `from` is the first header's first address only). */
function fromMailboxes(email: Email): Mailbox[] {
  return email.headers
    .filter((h) => h.key === "from")
    .flatMap((h) => addressParser(h.value, { flatten: true }))
    .filter((m): m is { name: string; address: string } => typeof m.address === "string" && m.address !== "")
    .map((m) => ({ name: m.name, address: m.address }));
}

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

type DmarcSummary = AuthResults["dmarc"];

/**
 * Strict alignment (adkim=s, aspf=s) as RFC 7489 3.1 has it: the domain must equal the From domain.
 * mailauth 4.13 reads the tags but still accepts a relaxed (same organisation) match, so a
 * signature of example.com would pass DMARC for news.example.com under adkim=s; this takes such
 * matches back, and DMARC fails when nothing else is aligned.
 */
export function strictAlignment(
  dmarc: DmarcSummary,
  strict: { dkim: boolean; spf: boolean },
  fromDomain: string | null,
): DmarcSummary {
  if (dmarc.result !== "pass" || fromDomain === null) return dmarc;
  const exact = (domain: string | null) => domain !== null && asciiHost(domain) === fromDomain;
  const notes: string[] = [];
  let { aligned_dkim, aligned_spf } = dmarc;
  if (strict.dkim && aligned_dkim !== null && !exact(aligned_dkim)) {
    notes.push(`the DKIM domain ${aligned_dkim} is not exactly ${fromDomain} (adkim=s)`);
    aligned_dkim = null;
  }
  if (strict.spf && aligned_spf !== null && !exact(aligned_spf)) {
    notes.push(`the SPF domain ${aligned_spf} is not exactly ${fromDomain} (aspf=s)`);
    aligned_spf = null;
  }
  if (notes.length === 0) return dmarc;
  const failed = aligned_dkim === null && aligned_spf === null;
  return {
    ...dmarc,
    result: failed ? "fail" : "pass",
    aligned_dkim,
    aligned_spf,
    comment: `strict alignment: ${notes.join("; ")}`,
  };
}

/** mailauth's result, reduced to what a reader needs and the verdict uses. */
export function summariseAuth(result: AuthenticateResult): AuthResults {
  const signatures: DkimSignature[] = result.dkim.results
    .filter((r) => typeof r.signingDomain === "string" && r.signingDomain !== "")
    .map((r) => ({
      domain: r.signingDomain,
      selector: text(r.selector),
      result: r.status.result,
      aligned: Boolean(r.status.aligned),
      comment: text(r.status.comment),
    }));
  const dkimResult =
    signatures.length === 0 ? "none" : signatures.some((s) => s.result === "pass") ? "pass" : "fail";

  const spf = result.spf;
  const clientIp = spf ? text(spf["client-ip"]) : null;
  const spfSummary =
    spf && clientIp
      ? {
          result: spf.status.result,
          domain: text(spf.domain),
          client_ip: clientIp,
          helo: text(spf.helo),
          comment: text(spf.status.comment),
        }
      : {
          result: "none",
          domain: spf ? text(spf.domain) : null,
          client_ip: null,
          helo: null,
          comment: "no Received header names the address of the server that delivered the message",
        };

  const dmarc = result.dmarc;
  const dmarcSummary = dmarc
    ? strictAlignment(
        {
          result: dmarc.status.result,
          domain: text(dmarc.domain),
          policy: text(dmarc.policy),
          aligned_dkim: text(dmarc.alignment?.dkim?.result),
          aligned_spf: text(dmarc.alignment?.spf?.result),
          comment: text(dmarc.status.comment) ?? text(dmarc.error),
        },
        {
          dkim: dmarc.alignment?.dkim?.strict === true,
          spf: dmarc.alignment?.spf?.strict === true,
        },
        result.dkim.headerFrom.length === 1 ? addressDomain(result.dkim.headerFrom[0] as string) : null,
      )
    : {
        result: "none",
        domain: null,
        policy: null,
        aligned_dkim: null,
        aligned_spf: null,
        comment: "not evaluated: DMARC needs exactly one From address",
      };

  const arc = result.arc;
  const arcSummary = arc
    ? { result: arc.status.result, comment: text(arc.status.comment) }
    : { result: "none", comment: null };

  return { dkim: { result: dkimResult, signatures }, spf: spfSummary, dmarc: dmarcSummary, arc: arcSummary };
}

/** Checks one raw message; throws a bad-input error when the input is not a message at all. */
export async function verifyMessage(raw: Buffer | string, options: VerifyOptions): Promise<VerifyResult> {
  const from = options.officialDomainsFrom ?? "--official";
  const officialDomains = parseOfficialDomains(options.officialDomains, from);
  if (officialDomains.length === 0)
    throw badInput(`${from}: no official domains to check the message against`);
  const message = normaliseMessage(raw);

  let email: Email;
  let result: AuthenticateResult;
  try {
    email = await PostalMime.parse(message);
    result = await authenticate(message, {
      resolver: options.resolver,
      trustReceived: true,
      mta: MTA,
      disableBimi: true,
    });
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw badInput(`the message cannot be read: ${(error as Error).message}`);
  }

  const auth = summariseAuth(result);
  const senders = fromMailboxes(email);
  const facts = {
    from: senders,
    replyTo: mailboxes(email.replyTo),
    links: messageLinks(email),
    auth,
  };
  const reasons = messageReasons(facts, {
    domains: officialDomains,
    brands: brandWords(officialDomains),
    imitates: lookalikeCheck(officialDomains),
  });
  const verdict = verdictOf(reasons);
  const first = senders[0];
  return {
    verdict,
    summary: verdictSummary(verdict, officialDomains),
    reasons,
    from: first ? { name: first.name, address: first.address, domain: addressDomain(first.address) } : null,
    auth,
  };
}
