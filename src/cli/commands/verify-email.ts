import { readFile } from "node:fs/promises";
import type { Config } from "../../config/env.ts";
import { badInput, usageError } from "../../lib/errors.ts";
import {
  cacheResolver,
  type DnsResolver,
  loadDnsCache,
  systemResolver,
} from "../../phishing/verify-email/dns-cache.ts";
import { parseOfficialDomains } from "../../phishing/verify-email/domains.ts";
import type { Verdict } from "../../phishing/verify-email/verdict.ts";
import { type VerifyResult, verifyMessage } from "../../phishing/verify-email/verify-message.ts";
import { type Command, expectArguments, parseCommandLine } from "../command.ts";

const help = `Usage: blastradius verify-email FILE.eml --official DOMAIN [--official DOMAIN ...]
                                [--dns-cache FILE] [--json] [--fail-on suspicious|phishing]

Is this message really from us? Checks one raw email message (the whole source, as "Show original"
or "View source" shows it) against the company's official domains: DKIM signatures, SPF for the
server named by the topmost Received header (the one the reader's mail server added), DMARC with
alignment, and ARC (mailauth); then the sender's domain and name, Reply-To, and every link, against
the official domains and their lookalikes. The verdict is authentic, suspicious or phishing, with
the reasons in plain words. A DMARC fail wins over any DKIM pass. Nothing is stored.

Arguments and options:
  FILE                  the message (.eml); - reads it from standard input.
  --official DOMAIN     an official domain (names under it count too); repeat, or separate with
                        commas, for several. Default: BLASTRADIUS_OFFICIAL_DOMAINS.
  --dns-cache FILE      answer every DNS question from FILE, never the network: a JSON object of
                        names, each an object of record types with their answers, as mailauth's
                        own --dns-cache option reads it, e.g.
                        {"example.com": {"TXT": [["v=spf1 ip4:192.0.2.0/24 -all"]]},
                         "s1._domainkey.example.com": {"TXT": [["v=DKIM1; k=rsa; p=MIIB..."]]},
                         "_dmarc.example.com": {"TXT": [["v=DMARC1; p=reject"]]}}
                        A name not in the file does not exist. Default: BLASTRADIUS_DNS_CACHE;
                        without either, the system's resolver (live DNS) answers.
  --json                print {verdict, summary, reasons: [{code, severity, message}], from,
                        auth: {dkim, spf, dmarc, arc}} as JSON.
  --fail-on LEVEL       exit 3 when the verdict is LEVEL or worse: suspicious (suspicious or
                        phishing) or phishing.
  -h, --help            this help.

Exit codes: 0 the message was checked (whatever the verdict), 1 the check failed, 2 bad usage or
bad input (the message names the option or file), 3 with --fail-on: the verdict is that bad.
`;

const RANK: Record<Verdict, number> = { authentic: 0, suspicious: 1, phishing: 2 };

async function readMessage(file: string): Promise<Buffer> {
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw badInput(
      `${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder, not a message file" : (error as Error).message}`,
    );
  }
}

const line = (label: string, value: string) => `${label.padEnd(9)}${value}`;

/** The verdict and its reasons for a terminal. */
export function formatResult(result: VerifyResult): string {
  const { auth } = result;
  const dkim =
    auth.dkim.signatures.length === 0
      ? "none (not signed)"
      : auth.dkim.signatures
          .map(
            (s) =>
              `${s.result} (${s.domain}${s.aligned ? ", aligned" : ""}${s.comment ? `: ${s.comment}` : ""})`,
          )
          .join(", ");
  const spf = `${auth.spf.result}${auth.spf.client_ip ? ` (${auth.spf.client_ip} for ${auth.spf.domain ?? "?"})` : ""}`;
  const dmarc = `${auth.dmarc.result}${auth.dmarc.domain ? ` (${auth.dmarc.domain}${auth.dmarc.policy ? `, policy ${auth.dmarc.policy}` : ""})` : ""}`;
  const from = result.from
    ? `${result.from.name ? `${JSON.stringify(result.from.name)} ` : ""}<${result.from.address}>`
    : "(none)";
  return [
    `${result.verdict.toUpperCase()}: ${result.summary}`,
    line("From:", from),
    "",
    ...(result.reasons.length === 0
      ? ["No reason for doubt."]
      : ["Reasons:", ...result.reasons.map((r) => `  - [${r.severity}] ${r.code}: ${r.message}`)]),
    "",
    "Checks:",
    line("  DKIM", dkim),
    line("  SPF", spf),
    line("  DMARC", dmarc),
    line("  ARC", auth.arc.result),
    "",
  ].join("\n");
}

export const verifyEmailCommand: Command = {
  name: "verify-email",
  help,
  async run(argv, config: Config) {
    const { values: o, positionals } = parseCommandLine(argv, {
      official: { type: "string", multiple: true },
      "dns-cache": { type: "string" },
      json: { type: "boolean" },
      "fail-on": { type: "string" },
    });
    const [file] = expectArguments(positionals, ["FILE"]) as [string];
    const failOn = o["fail-on"];
    if (failOn !== undefined && failOn !== "suspicious" && failOn !== "phishing") {
      throw usageError(`--fail-on must be suspicious or phishing (got ${JSON.stringify(failOn)})`);
    }
    const fromOption = (o.official ?? []).length > 0;
    const officialDomainsFrom = fromOption ? "--official" : "BLASTRADIUS_OFFICIAL_DOMAINS";
    const officialDomains = parseOfficialDomains(
      fromOption ? (o.official ?? []) : config.officialDomains,
      officialDomainsFrom,
    );
    if (officialDomains.length === 0) {
      throw usageError("missing required option --official DOMAIN (or set BLASTRADIUS_OFFICIAL_DOMAINS)");
    }
    const cacheFile = o["dns-cache"] ?? config.dnsCacheFile;
    const resolver: DnsResolver = cacheFile
      ? cacheResolver(await loadDnsCache(cacheFile, o["dns-cache"] ? "--dns-cache" : "BLASTRADIUS_DNS_CACHE"))
      : systemResolver;
    const message = await readMessage(file);
    const result = await verifyMessage(message, { officialDomains, officialDomainsFrom, resolver });
    if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(formatResult(result));
    return failOn && RANK[result.verdict] >= RANK[failOn] ? 3 : 0;
  },
};
