import { skeleton } from "../lookalikes/confusables.ts";
import { addressDomain, type BrandWord, isOfficialHost, registrableDomain } from "./domains.ts";
import type { LookalikeCheck } from "./lookalike-check.ts";
import type { MessageLink } from "./message-links.ts";

/**
 * The rules that turn what a message says about itself, and what DKIM, SPF, DMARC and ARC say about
 * it, into a verdict with reasons. Pure: the caller parses the message and runs mailauth.
 *
 * Each reason has a stable code and one severity:
 *
 * | code                         | when                                                                  | severity   |
 * |------------------------------|-----------------------------------------------------------------------|------------|
 * | from-missing                 | no From address                                                       | suspicious |
 * | from-multiple                | more than one From address (DMARC cannot judge such a message)        | suspicious |
 * | from-lookalike               | the From domain imitates an official domain                           | phishing   |
 * | from-not-official            | the From domain is not official (nor under one) and imitates none     | suspicious |
 * | display-name-claims-company  | the From name shows an official domain or brand, the address is not   | phishing   |
 * |                              | official                                                              |            |
 * | reply-to-lookalike           | a Reply-To address is at a domain imitating an official domain        | phishing   |
 * | reply-to-elsewhere           | a Reply-To address is neither official nor at the From domain         | suspicious |
 * | link-lookalike               | a link leads to a domain imitating an official domain                 | phishing   |
 * | link-mismatch                | a link's text shows an official domain (or a lookalike of one) and    | phishing   |
 * |                              | the link leads to another domain                                      |            |
 * | link-text-differs            | a link's text shows another domain than the one it leads to           | suspicious |
 * | dmarc-fail                   | DMARC fails: no aligned DKIM pass and no aligned SPF pass. This wins  | phishing   |
 * |                              | over any DKIM pass                                                    |            |
 * | dmarc-none                   | the From domain publishes no DMARC record                             | suspicious |
 * | dmarc-unchecked              | DMARC could not be evaluated (DNS error, bad record)                  | suspicious |
 * | no-aligned-dkim              | DMARC did not pass and no DKIM signature of the From domain verifies  | suspicious |
 * | dkim-fail                    | a DKIM signature is present but does not verify (altered or forged)   | suspicious |
 * | spf-fail                     | SPF fail or softfail for the delivering server, unless DMARC passed   | suspicious |
 * |                              | through an aligned DKIM signature (forwarding breaks SPF, not DKIM)   |            |
 * | arc-fail                     | the message's ARC chain is broken                                     | suspicious |
 *
 * The verdict: `phishing` when any reason is a phishing one, `suspicious` when there is any other
 * reason, and `authentic` only with no reason at all, which means DMARC passed (through an aligned
 * DKIM signature or aligned SPF) for a From domain that is official. ARC is reported, and a broken
 * chain is a reason, but a passing chain never overrides DMARC: we cannot know which forwarders to
 * trust.
 */

export type Verdict = "authentic" | "suspicious" | "phishing";
export type Severity = Exclude<Verdict, "authentic">;

export const REASON_SEVERITY = {
  "from-missing": "suspicious",
  "from-multiple": "suspicious",
  "from-lookalike": "phishing",
  "from-not-official": "suspicious",
  "display-name-claims-company": "phishing",
  "reply-to-lookalike": "phishing",
  "reply-to-elsewhere": "suspicious",
  "link-lookalike": "phishing",
  "link-mismatch": "phishing",
  "link-text-differs": "suspicious",
  "dmarc-fail": "phishing",
  "dmarc-none": "suspicious",
  "dmarc-unchecked": "suspicious",
  "no-aligned-dkim": "suspicious",
  "dkim-fail": "suspicious",
  "spf-fail": "suspicious",
  "arc-fail": "suspicious",
} as const satisfies Record<string, Severity>;

export type ReasonCode = keyof typeof REASON_SEVERITY;
export type Reason = Readonly<{ code: ReasonCode; severity: Severity; message: string }>;

export type DkimSignature = Readonly<{
  /** the signing domain (d=) */
  domain: string;
  selector: string | null;
  /** mailauth's result: pass, fail, neutral (body changed), policy, permerror, temperror */
  result: string;
  /** the signing domain belongs to the From domain (relaxed alignment) */
  aligned: boolean;
  comment: string | null;
}>;

export type AuthResults = Readonly<{
  dkim: Readonly<{ result: string; signatures: readonly DkimSignature[] }>;
  spf: Readonly<{
    result: string;
    /** the envelope sender's domain SPF was checked for */
    domain: string | null;
    client_ip: string | null;
    helo: string | null;
    comment: string | null;
  }>;
  dmarc: Readonly<{
    result: string;
    domain: string | null;
    policy: string | null;
    /** the domain of the aligned DKIM pass or SPF pass DMARC counted, if any */
    aligned_dkim: string | null;
    aligned_spf: string | null;
    comment: string | null;
  }>;
  arc: Readonly<{ result: string; comment: string | null }>;
}>;

export type Mailbox = Readonly<{ name: string; address: string }>;

export type MessageFacts = Readonly<{
  from: readonly Mailbox[];
  replyTo: readonly Mailbox[];
  links: readonly MessageLink[];
  auth: AuthResults;
}>;

export type Officials = Readonly<{
  /** official domains, ASCII */
  domains: readonly string[];
  /** their registrable labels, the brand words a sender's name may claim ("openai") */
  brands: readonly BrandWord[];
  imitates: LookalikeCheck;
}>;

/** At most this many reasons of one code (a message with 300 bad links needs a few examples). */
const PER_CODE = 5;

const quoted = (text: string) => `“${text.length > 80 ? `${text.slice(0, 79)}…` : text}”`;

/**
 * Which official domain a display name claims, by the domain or its brand word, or null. Names compare by their Unicode
 * skeleton (so “ОpenAI” in Cyrillic reads as “openai”): an official domain anywhere in the name, the
 * brand as a word or as consecutive words (“Open AI”), or inside a word when the brand has five or
 * more letters (“OpenAISupport”). Shorter brands must stand as a word: “box” is not in “Inbox”.
 */
export function claimedBrand(
  displayName: string,
  officials: Pick<Officials, "domains" | "brands">,
): string | null {
  const name = skeleton(displayName.toLowerCase());
  if (name.trim() === "") return null;
  for (const domain of officials.domains) if (name.includes(skeleton(domain))) return domain;
  const words = name.split(/[^\p{L}\p{N}]+/u).filter((w) => w !== "");
  for (const brand of officials.brands) {
    const b = skeleton(brand.word);
    if (b.length < 3) continue;
    for (let i = 0; i < words.length; i++) {
      let run = "";
      for (let j = i; j < Math.min(words.length, i + 4) && run.length < b.length; j++) {
        run += words[j];
        if (run === b) return brand.domain;
      }
      if (b.length >= 5 && (words[i] as string).includes(b)) return brand.domain;
    }
  }
  return null;
}

function authReasons(
  from: Mailbox,
  auth: AuthResults,
  add: (code: ReasonCode, message: string) => void,
): void {
  const domain = addressDomain(from.address);
  const { dkim, spf, dmarc, arc } = auth;
  const dmarcPassed = dmarc.result === "pass";
  if (dmarc.result === "fail") {
    const strict = dmarc.comment?.startsWith("strict alignment") ? ` (${dmarc.comment})` : "";
    const policy =
      dmarc.policy === "reject" || dmarc.policy === "quarantine"
        ? ` ${domain} asks mail servers to ${dmarc.policy} such messages.`
        : "";
    add(
      "dmarc-fail",
      `The message claims to come from ${domain} but fails that domain's DMARC check: no valid DKIM signature and no SPF pass for ${domain} vouches for it${strict}.${policy}`,
    );
  } else if (dmarc.result === "none") {
    add("dmarc-none", `${domain} publishes no DMARC policy, so nothing ties this message to that domain.`);
  } else if (!dmarcPassed) {
    add(
      "dmarc-unchecked",
      `DMARC could not be checked for ${domain} (${dmarc.result}${dmarc.comment ? `: ${dmarc.comment}` : ""}).`,
    );
  }
  const alignedPass = dkim.signatures.some((s) => s.result === "pass" && s.aligned);
  if (!dmarcPassed && !alignedPass) {
    const others = [...new Set(dkim.signatures.filter((s) => s.result === "pass").map((s) => s.domain))];
    add(
      "no-aligned-dkim",
      dkim.signatures.length === 0
        ? `The message has no DKIM signature, so nothing proves ${domain} sent it.`
        : `No valid DKIM signature of ${domain} is on the message${others.length ? ` (only of ${others.join(", ")})` : ""}.`,
    );
  }
  for (const s of dkim.signatures) {
    if (s.result === "pass" || s.result === "none") continue;
    add(
      "dkim-fail",
      `The DKIM signature of ${s.domain} does not verify (${s.comment ?? s.result}): the message was changed after it was signed, or the signature is forged.`,
    );
  }
  const dmarcByDkim = dmarcPassed && dmarc.aligned_dkim !== null;
  if ((spf.result === "fail" || spf.result === "softfail") && !dmarcByDkim) {
    add(
      "spf-fail",
      `The server that delivered the message${spf.client_ip ? ` (${spf.client_ip})` : ""} is not allowed to send mail for ${spf.domain ?? "the sender's domain"} (SPF ${spf.result}).`,
    );
  }
  if (arc.result === "fail") {
    add(
      "arc-fail",
      `The message's ARC chain, the record of the servers that passed it on, is broken${arc.comment ? ` (${arc.comment})` : ""}.`,
    );
  }
}

function linkReasons(
  links: readonly MessageLink[],
  officials: Officials,
  add: (code: ReasonCode, message: string) => void,
): void {
  const official = (host: string) => isOfficialHost(host, officials.domains);
  for (const l of links) {
    if (l.host === "" || official(l.host)) continue;
    const imitation = officials.imitates(l.host);
    if (imitation) {
      add(
        "link-lookalike",
        `A link leads to ${l.host}, a domain made to look like our ${imitation.official}.`,
      );
    }
    if (l.shownHost && registrableDomain(l.shownHost) !== registrableDomain(l.host)) {
      const shownOurs = official(l.shownHost) || officials.imitates(l.shownHost) !== null;
      add(
        shownOurs ? "link-mismatch" : "link-text-differs",
        `A link shows ${l.shownHost} but leads to ${l.host}${shownOurs ? "" : ", another site"}.`,
      );
    }
  }
}

/**
 * The reasons a message is not (or may not be) from us: the phishing ones first, then in a stable
 * order (sender, replies, links, signatures).
 */
export function messageReasons(facts: MessageFacts, officials: Officials): Reason[] {
  const reasons: Reason[] = [];
  const seen = new Set<string>();
  const count = new Map<ReasonCode, number>();
  const add = (code: ReasonCode, message: string) => {
    if (seen.has(message) || (count.get(code) ?? 0) >= PER_CODE) return;
    seen.add(message);
    count.set(code, (count.get(code) ?? 0) + 1);
    reasons.push({ code, severity: REASON_SEVERITY[code], message });
  };
  const official = (domain: string) => isOfficialHost(domain, officials.domains);
  const ours = officials.domains.join(", ");

  const [from] = facts.from;
  if (!from)
    add("from-missing", "The message has no sender address (no From header), so nothing vouches for it.");
  else if (facts.from.length > 1) {
    add(
      "from-multiple",
      `The message names ${facts.from.length} senders (${facts.from.map((f) => f.address).join(", ")}); a message from us names one.`,
    );
  }
  for (const sender of facts.from) {
    const domain = addressDomain(sender.address);
    if (official(domain)) continue;
    const imitation = officials.imitates(domain);
    if (imitation) {
      add(
        "from-lookalike",
        `The sender's address ${sender.address} is at ${domain}, a domain made to look like our ${imitation.official}. It is not ours.`,
      );
    } else {
      add(
        "from-not-official",
        `The sender's address ${sender.address} is not at one of our domains (${ours}).`,
      );
    }
    const claimed = claimedBrand(sender.name, officials);
    if (claimed) {
      add(
        "display-name-claims-company",
        `The sender's name ${quoted(sender.name)} claims to be us (${claimed}), but the address behind it is ${sender.address}, which is not ours.`,
      );
    }
  }

  const fromDomain = from ? registrableDomain(addressDomain(from.address)) : null;
  for (const r of facts.replyTo) {
    const domain = addressDomain(r.address);
    if (official(domain)) continue;
    const imitation = officials.imitates(domain);
    if (imitation) {
      add(
        "reply-to-lookalike",
        `Replies would go to ${r.address}, at ${domain}, a domain made to look like our ${imitation.official}.`,
      );
    } else if (registrableDomain(domain) !== fromDomain) {
      add(
        "reply-to-elsewhere",
        `Replies would go to ${r.address}, not to the sender's domain or one of ours.`,
      );
    }
  }

  linkReasons(facts.links, officials, add);
  if (from && facts.from.length === 1) authReasons(from, facts.auth, add);
  // Array.prototype.sort is stable: within a severity the order above stays
  return reasons.sort((a, b) => Number(b.severity === "phishing") - Number(a.severity === "phishing"));
}

/**
 * The verdict for these reasons. No reason at all means authentic: the rules above give a reason for
 * every From that is missing, repeated or not official, and for every DMARC result but pass.
 */
export function verdictOf(reasons: readonly Reason[]): Verdict {
  if (reasons.some((r) => r.severity === "phishing")) return "phishing";
  return reasons.length > 0 ? "suspicious" : "authentic";
}

/** One sentence for the verdict, for the page and the CLI. */
export function verdictSummary(verdict: Verdict, officials: readonly string[]): string {
  switch (verdict) {
    case "authentic":
      return `This message comes from us (${officials.join(", ")}): its signature checks out and nothing in it points elsewhere.`;
    case "suspicious":
      return "We cannot confirm that this message comes from us. Do not follow its links or send it personal data; contact us through our website instead.";
    case "phishing":
      return "This message pretends to come from us, or leads to places that pretend to be ours. Do not click its links, open its attachments or reply to it.";
  }
}
