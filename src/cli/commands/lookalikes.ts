import { stringify } from "csv-stringify/sync";
import { usageError } from "../../lib/errors.ts";
import {
  FUZZERS,
  generateForDomains,
  type Lookalike,
} from "../../phishing/lookalikes/generate-lookalikes.ts";
import {
  createMatcher,
  type FeedStats,
  type MatchResult,
  matchFeed,
} from "../../phishing/lookalikes/match-feed.ts";
import { openFeed } from "../../phishing/lookalikes/read-feed.ts";
import { parseTarget } from "../../phishing/lookalikes/target.ts";
import { readWordList } from "../../phishing/lookalikes/word-list-file.ts";
import { type Command, parseCommandLine, requireOption } from "../command.ts";

const help = `Usage: blastradius lookalikes DOMAIN... [--tld-dict FILE] [--dict FILE] [--format list|json|csv]
       blastradius lookalikes match --domain DOMAIN... --feed FILE|- [--format list|json|csv]
                                    [--min-score N] [--tld-dict FILE] [--dict FILE]

Lookalike domains that phishing after a breach may use, and a check of a domain feed for them.

The first form lists lookalikes of each DOMAIN (Unicode or punycode; www.example.co.uk works: the
registrable label is the one before the public suffix), each with the fuzzer that made it:
${wrap(FUZZERS.join(", "), "  ")}.
Every name is valid IDNA2008 (each label checked; invalid ones are dropped); DOMAIN itself and names
under it are never listed. A name several fuzzers make is listed once, under the first of them in
the order above (the most specific first).

The second form reads a feed, one domain a line or certificate-transparency JSON lines with an
all_domains array (gzip accepted; - for stdin), and reports each name that imitates an official
domain, with a score (0-100) and the reasons: an exact lookalike from the list above, the same
confusable skeleton (Unicode UTS #39), a small edit distance on the registrable label, the same
label under another suffix, the brand inside another domain (combosquatting) or in its subdomain.
The official domains and names under them are never reported; a name is reported once. At the end
a summary on stderr counts the names checked, invalid names and malformed JSON lines (by line).

Options:
  --format F        list (default): generation prints one ASCII (punycode) domain a line; match
                    prints domain, official, score and reasons, tab-separated.
                    json: generation prints [{fuzzer, domain, punycode, original}] (domain and
                    original in Unicode); match prints [{domain, official, score, reasons}].
                    csv: the same fields, with a header (fuzzer,domain,punycode,original or
                    domain,official,score,reasons; reasons joined with "; ").
  --tld-dict FILE   suffixes for tld-swap, one a line (default: a built-in list of common ones).
  --dict FILE       words for the dictionary fuzzer, one a line (default: none).
                    Both files skip blank lines and comments (# or //), as dnstwist's do.
  --domain DOMAIN   (match) an official domain; repeat it or separate several with commas.
  --feed FILE       (match) the feed; - reads stdin.
  --min-score N     (match) report only names scoring at least N (0-100; default 0).
  -h, --help        this help.

Exit codes: 0 success, 2 bad usage or bad input (an unknown --format, a missing or invalid DOMAIN,
an unreadable file).

Examples:
  blastradius lookalikes example.com
  blastradius lookalikes example.com --tld-dict common_tlds.dict --dict english.dict --format csv
  blastradius lookalikes match --domain example.com --domain example.co.uk --feed ct.jsonl.gz --min-score 80`;

function wrap(text: string, indent: string, width = 96): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = "";
    }
    line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join("\n");
}

const FORMATS = ["list", "json", "csv"] as const;
type Format = (typeof FORMATS)[number];

function parseFormat(value: string | undefined): Format {
  if (value === undefined) return "list";
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw usageError(`--format must be list, json or csv (got ${JSON.stringify(value)})`);
  }
  return value as Format;
}

function parseMinScore(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || Number(value) > 100) {
    throw usageError(`--min-score must be a whole number from 0 to 100 (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

async function wordLists(o: { "tld-dict"?: string; dict?: string }) {
  return {
    tlds: o["tld-dict"] ? await readWordList(o["tld-dict"], "--tld-dict", "suffix") : undefined,
    dictionary: o.dict ? await readWordList(o.dict, "--dict", "word") : undefined,
  };
}

/** Ends quietly when the reader of stdout goes away (| head): the rest is not wanted. */
function stopOnClosedStdout() {
  process.stdout.once("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}

function formatLookalikes(list: readonly Lookalike[], format: Format): string {
  if (format === "json") return `${JSON.stringify(list, null, 2)}\n`;
  if (format === "csv") {
    return stringify(
      list.map((l) => [l.fuzzer, l.domain, l.punycode, l.original]),
      { header: true, columns: ["fuzzer", "domain", "punycode", "original"] },
    );
  }
  return list.length ? `${list.map((l) => l.punycode).join("\n")}\n` : "";
}

async function generate(argv: readonly string[]): Promise<number> {
  const { values: o, positionals } = parseCommandLine(argv, {
    "tld-dict": { type: "string" },
    dict: { type: "string" },
    format: { type: "string" },
  });
  const format = parseFormat(o.format);
  if (positionals.length === 0) throw usageError("missing DOMAIN");
  const targets = positionals.map((d) => parseTarget(d, "DOMAIN"));
  const lists = await wordLists(o);
  const found = generateForDomains(targets, lists);
  stopOnClosedStdout();
  process.stdout.write(formatLookalikes(found, format));
  return 0;
}

/** Writes match results as they come, in the chosen format (json as one array). */
function resultWriter(format: Format) {
  let first = true;
  const out = (text: string) => process.stdout.write(text);
  return {
    start: () => {
      if (format === "csv") out(stringify([["domain", "official", "score", "reasons"]]));
    },
    write: (r: MatchResult) => {
      if (format === "json") {
        out(`${first ? "[\n" : ",\n"}  ${JSON.stringify(r)}`);
      } else if (format === "csv") {
        out(stringify([[r.domain, r.official, r.score, r.reasons.join("; ")]]));
      } else {
        out(`${r.domain}\t${r.official}\t${r.score}\t${r.reasons.join("; ")}\n`);
      }
      first = false;
    },
    end: () => {
      if (format === "json") out(first ? "[]\n" : "\n]\n");
    },
  };
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

function summary(stats: FeedStats, seconds: number): string {
  const lines = [
    `lookalikes match: ${plural(stats.lines, "line")}, ${plural(stats.names, "name")} checked in ${seconds.toFixed(1)} s; ` +
      `${plural(stats.reported, "lookalike")} reported (${stats.matched} matching in all, repeats included)`,
  ];
  if (stats.invalidNames > 0) {
    const shown = stats.invalidExamples.map((e) => `line ${e.line}: ${JSON.stringify(e.name)}: ${e.reason}`);
    lines.push(
      `${plural(stats.invalidNames, "invalid name")} left out${stats.invalidNames > shown.length ? ` (the first ${shown.length}:)` : ":"}`,
      ...shown.map((s) => `  ${s}`),
    );
  }
  if (stats.malformedLines > 0) {
    const shown = stats.malformedExamples.map((e) => `line ${e.line}: ${e.message}`);
    lines.push(
      `${plural(stats.malformedLines, "malformed JSON line")} left out${stats.malformedLines > shown.length ? ` (the first ${shown.length}:)` : ":"}`,
      ...shown.map((s) => `  ${s}`),
    );
  }
  if (stats.skippedLines > 0) lines.push(`${plural(stats.skippedLines, "blank or comment line")} skipped`);
  return `${lines.join("\n")}\n`;
}

async function match(argv: readonly string[]): Promise<number> {
  const { values: o, positionals } = parseCommandLine(argv, {
    domain: { type: "string", multiple: true },
    feed: { type: "string" },
    format: { type: "string" },
    "min-score": { type: "string" },
    "tld-dict": { type: "string" },
    dict: { type: "string" },
  });
  const format = parseFormat(o.format);
  const minScore = parseMinScore(o["min-score"]);
  const domains = [...(o.domain ?? []), ...positionals]
    .flatMap((d) => d.split(","))
    .map((d) => d.trim())
    .filter((d) => d !== "");
  if (domains.length === 0) throw usageError("missing required option --domain DOMAIN");
  const feed = requireOption(o.feed, "--feed FILE");
  const lists = await wordLists(o);
  const matcher = createMatcher(
    domains.map((d) => parseTarget(d, "--domain")),
    lists,
  );
  const stream = await openFeed(feed);
  const started = performance.now();
  const writer = resultWriter(format);
  stopOnClosedStdout();
  writer.start();
  const stats = await matchFeed(stream, matcher, { minScore, onMatch: (r) => writer.write(r) });
  writer.end();
  process.stderr.write(summary(stats, (performance.now() - started) / 1000));
  return 0;
}

export const lookalikesCommand: Command = {
  name: "lookalikes",
  help,
  run: async (argv) => (argv[0] === "match" ? match(argv.slice(1)) : generate(argv)),
};
