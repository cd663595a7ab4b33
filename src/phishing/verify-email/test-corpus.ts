import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { dkimSign } from "mailauth";
import { tempDir } from "../../lib/test-fixtures.ts";

/**
 * A corpus of messages for tests, made fresh each run: RSA keys generated here, genuine messages
 * DKIM-signed with them, and the public keys, SPF and DMARC records published in a DNS cache file
 * (mailauth's format). Each message arrives with a Received header from the reader's mail server
 * naming the delivering server's address, as a real inbox would show it.
 */

export const OFFICIAL = "openai.com";

/** Servers allowed by SPF: the company's senders, and the senders of the other domains' owners. */
const OUR_SENDER = { host: "mail.openai.com", ip: "192.0.2.25" };
const OTHER_SENDER = { host: "smtp.mailer.example", ip: "198.51.100.7" };
const ATTACKER = { host: "vps-31.hosting.example", ip: "203.0.113.66" };

export const CASES = [
  "genuine",
  "spoofed-from",
  "strict-dmarc",
  "forged-signature",
  "lookalike-domain",
  "combosquat-domain",
  "broken-signature",
  "display-name",
  "mismatched-link",
  "lookalike-link",
  "reply-to",
] as const;
export type CaseName = (typeof CASES)[number];

export type Corpus = Readonly<{
  dir: string;
  officials: readonly string[];
  /** the DNS cache as written to dnsCacheFile */
  dnsCache: Record<string, Record<string, unknown[]>>;
  dnsCacheFile: string;
  messages: Readonly<Record<CaseName, Buffer>>;
  /** each message as an .eml file in dir */
  files: Readonly<Record<CaseName, string>>;
}>;

type Key = { pem: string; publicKey: string };

function newKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  };
}

/** A TXT record as DNS serves a long one: strings of at most 255 characters. */
const txt = (value: string): string[] => value.match(/.{1,255}/g) ?? [""];

type Parts = {
  from: string;
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  returnPath: string;
};

/** A multipart/alternative message without trace headers (those are added on delivery). */
function compose(p: Parts, id: number): string {
  const boundary = `b${id}-alt`;
  return [
    `From: ${p.from}`,
    "To: Alice Example <alice@reader.example>",
    ...(p.replyTo ? [`Reply-To: ${p.replyTo}`] : []),
    `Subject: ${p.subject}`,
    "Date: Mon, 01 Dec 2025 10:00:00 +0000",
    `Message-ID: <corpus-${id}@${p.returnPath.split("@")[1]}>`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 7bit",
    "",
    p.text,
    "",
    `--${boundary}`,
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: 7bit",
    "",
    `<!doctype html><html><body>${p.html}</body></html>`,
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/** What the reader's mail server prepends: Return-Path and its own Received header, above the sender's. */
function deliver(message: string, sender: { host: string; ip: string }, returnPath: string): Buffer {
  const trace = [
    `Return-Path: <${returnPath}>`,
    `Received: from ${sender.host} (${sender.host} [${sender.ip}])`,
    "\tby mx.reader.example (Postfix) with ESMTPS id 4dXyZ1aB2c",
    "\tfor <alice@reader.example>; Mon, 01 Dec 2025 10:00:01 +0000 (UTC)",
    // the sender's own hop, below: an internal address that SPF does not list and that must not be used
    `Received: from app-7.internal (app-7.internal [10.0.0.7]) by ${sender.host} with ESMTP id 77;`,
    "\tMon, 01 Dec 2025 10:00:00 +0000",
    "",
  ].join("\r\n");
  return Buffer.from(trace + message, "utf8");
}

async function sign(message: string, domain: string, selector: string, key: Key): Promise<string> {
  const signature = { signingDomain: domain, selector, privateKey: key.pem };
  // The typings want the first signature's fields at the top as well; mailauth reads signatureData.
  // signTime is given because without it mailauth reads the clock twice (once for the signed t= tag,
  // once for the written one), and a second boundary between the two breaks the signature.
  const result = await dkimSign(message, { ...signature, signatureData: [signature], signTime: new Date() });
  if (result.errors.length > 0) throw new Error(`signing failed: ${JSON.stringify(result.errors)}`);
  return result.signatures + message;
}

const NOTICE_TEXT =
  "We are writing about a security incident at one of our vendors. Read more at https://openai.com/security/notice.";
const NOTICE_HTML =
  '<p>We are writing about a security incident at one of our vendors.</p><p>Read more at <a href="https://openai.com/security/notice">openai.com/security/notice</a> or sign in at <a href="https://platform.openai.com/login">https://platform.openai.com/login</a>.</p>';

export async function buildCorpus(): Promise<Corpus> {
  const dir = await tempDir("blastradius-verify-email-");
  const ours = newKey();
  const attackerKey = newKey();
  const lookalikeKey = newKey();
  const comboKey = newKey();
  const mailerKey = newKey();

  const dnsCache: Record<string, Record<string, unknown[]>> = {};
  const publish = (domain: string, selector: string, key: Key, spfIp: string) => {
    dnsCache[`${selector}._domainkey.${domain}`] = { TXT: [txt(`v=DKIM1; k=rsa; p=${key.publicKey}`)] };
    dnsCache[domain] = {
      TXT: [[`v=spf1 ip4:${spfIp}/24 -all`]],
      MX: [{ exchange: `mx.${domain}`, priority: 10 }],
    };
    dnsCache[`_dmarc.${domain}`] = { TXT: [[`v=DMARC1; p=reject; rua=mailto:dmarc@${domain}`]] };
  };
  publish(OFFICIAL, "notify2025", ours, OUR_SENDER.ip);
  // a subdomain whose own DMARC record asks for strict alignment: only its exact name counts
  dnsCache[`_dmarc.news.${OFFICIAL}`] = { TXT: [["v=DMARC1; p=reject; adkim=s; aspf=s"]] };
  publish("0penai.com", "s1", lookalikeKey, OTHER_SENDER.ip);
  publish("openai-support.com", "s1", comboKey, OTHER_SENDER.ip);
  publish("mailer.example", "m1", mailerKey, OTHER_SENDER.ip);

  const notice = (over: Partial<Parts> = {}): Parts => ({
    from: `"OpenAI" <noreply@${OFFICIAL}>`,
    subject: "About the security incident at our analytics vendor",
    text: NOTICE_TEXT,
    html: NOTICE_HTML,
    returnPath: `bounces@${OFFICIAL}`,
    ...over,
  });
  let id = 0;
  const signedByUs = async (parts: Parts) =>
    deliver(await sign(compose(parts, ++id), OFFICIAL, "notify2025", ours), OUR_SENDER, parts.returnPath);

  const genuine = await signedByUs(notice());
  const brokenSource = await sign(compose(notice(), ++id), OFFICIAL, "notify2025", ours);
  const messages: Record<CaseName, Buffer> = {
    genuine,
    // our address, not signed, from a server our SPF does not allow
    "spoofed-from": deliver(compose(notice(), ++id), ATTACKER, `bounces@${OFFICIAL}`),
    // signed by us (d=openai.com, which passes and is aligned in the relaxed sense), From the
    // subdomain whose DMARC record is strict: DMARC fails, and that fail wins over the DKIM pass
    "strict-dmarc": await signedByUs(notice({ from: `"OpenAI News" <news@news.${OFFICIAL}>` })),
    // signed as us, but with the attacker's key
    "forged-signature": deliver(
      await sign(compose(notice(), ++id), OFFICIAL, "notify2025", attackerKey),
      ATTACKER,
      `bounces@${OFFICIAL}`,
    ),
    // a lookalike domain with its own key, SPF and DMARC: every check passes for it
    "lookalike-domain": deliver(
      await sign(
        compose(notice({ from: '"OpenAI" <security@0penai.com>', returnPath: "bounces@0penai.com" }), ++id),
        "0penai.com",
        "s1",
        lookalikeKey,
      ),
      OTHER_SENDER,
      "bounces@0penai.com",
    ),
    "combosquat-domain": deliver(
      await sign(
        compose(
          notice({
            from: "Security Team <alerts@openai-support.com>",
            returnPath: "bounces@openai-support.com",
          }),
          ++id,
        ),
        "openai-support.com",
        "s1",
        comboKey,
      ),
      OTHER_SENDER,
      "bounces@openai-support.com",
    ),
    // signed by us, then the body changed on the way (a link swapped in)
    "broken-signature": deliver(
      brokenSource.replace("openai.com/security/notice</a>", "openai.com/security/notice-now</a>"),
      OUR_SENDER,
      `bounces@${OFFICIAL}`,
    ),
    // the name claims us; the address and signature belong to a bulk mailer
    "display-name": deliver(
      await sign(
        compose(
          notice({ from: '"OpenAI Support" <support@mailer.example>', returnPath: "bounces@mailer.example" }),
          ++id,
        ),
        "mailer.example",
        "m1",
        mailerKey,
      ),
      OTHER_SENDER,
      "bounces@mailer.example",
    ),
    // genuinely ours, but a link shows our address and leads elsewhere
    "mismatched-link": await signedByUs(
      notice({
        text: "Sign in to review your account.",
        html: '<p>Sign in to review your account: <a href="https://evil.example/openai/login?session=1">https://openai.com/login</a></p>',
      }),
    ),
    "lookalike-link": await signedByUs(
      notice({
        text: "Reset your password at https://openai-login.com/reset now.",
        html: '<p>Reset your password <a href="https://openai-login.com/reset">here</a>.</p>',
      }),
    ),
    // genuinely ours, but replies go to someone else
    "reply-to": await signedByUs(notice({ replyTo: "OpenAI Billing <billing@evil.example>" })),
  };

  if (messages["broken-signature"].equals(deliver(brokenSource, OUR_SENDER, `bounces@${OFFICIAL}`))) {
    throw new Error("the broken-signature case did not change the body");
  }

  const dnsCacheFile = path.join(dir, "dns-cache.json");
  await writeFile(dnsCacheFile, JSON.stringify(dnsCache, null, 2));
  const files = {} as Record<CaseName, string>;
  for (const name of CASES) {
    files[name] = path.join(dir, `${name}.eml`);
    await writeFile(files[name], messages[name]);
  }
  return { dir, officials: [OFFICIAL], dnsCache, dnsCacheFile, messages, files };
}
