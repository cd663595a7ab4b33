import { writeFile } from "node:fs/promises";
import { cliActor } from "../../auth/roles.ts";
import type { Config } from "../../config/env.ts";
import { usageError } from "../../lib/errors.ts";
import { openAnalysisCampaign } from "../../notify/analysis-campaign.ts";
import {
  type CampaignCounts,
  type CampaignSettings,
  getCampaignStatus,
  requireCampaignId,
} from "../../notify/campaigns.ts";
import { addressOf } from "../../notify/compose-message.ts";
import { type AudienceFilter, parseAudience } from "../../notify/load-audience.ts";
import {
  dkimOptions,
  exposedInAnalysis,
  loadNoticeFile,
  noticeSettings,
} from "../../notify/notice-settings.ts";
import {
  exportCampaign,
  formatPreview,
  previewFromAnalysis,
  readOutboxMessage,
} from "../../notify/read-messages.ts";
import { recordBounceDir } from "../../notify/record-bounces.ts";
import { renderThreads, SEND_DEFAULTS, sendCampaign } from "../../notify/send-campaign.ts";
import { outboxTransport, parseSmtpUrl, smtpTransport, type Transport } from "../../notify/transports.ts";
import {
  type Command,
  parseOptions,
  positiveInt,
  requireOption,
  subcommandError,
  withContext,
} from "../command.ts";
import { terminalProgress } from "../progress.ts";

const help = `Usage: blastradius notify send --analysis DIR --audience users|admins --campaign ID --from ADDRESS
                              [--smtp smtp://HOST:PORT] [--dkim-key FILE --dkim-selector S [--dkim-domain D]]
                              [--rate N] [--concurrency N] [--domain-concurrency N] [--locale-default L]
                              [--notice FILE] [--templates DIR] [--country CC] [--category KEY] [--org ID]
                              [--reply-to ADDRESS] [--max-attempts N] [--retry-delay SECONDS] [--quiet]
       blastradius notify status --campaign ID [--json]
       blastradius notify preview --analysis DIR --audience A --recipient EMAIL [--locale L] [--from ADDRESS]
                              [--notice FILE] [--templates DIR] [--locale-default L] [--raw]
       blastradius notify bounces --dir DIR [--json]
       blastradius notify export --campaign ID --out DIR
       blastradius notify outbox --campaign ID --recipient EMAIL

Tells every affected person (--audience users) or every owner and admin of an affected
organisation (--audience admins) what was and was not exposed, in their language.

send     makes the campaign on first run: its recipients come from an 'analyze --out' folder, each
         with a row in the delivery ledger in the store; the operator running the command is recorded
         as its approver. It then sends every message owed. Running the same command again resumes
         it: every recipient not yet sent, failed or suppressed is sent, and messages that were in
         flight when a sender died go out again with the same Message-ID (so at most --concurrency
         duplicates per crash, each recognisable by its Message-ID). Exit 0 once every recipient is
         sent, failed or suppressed; 1 if it stopped first (a signal, the relay unusable: run it again).
status   counts of the campaign's ledger: {"total","sent","failed","bounced","suppressed","pending"}.
preview  prints the message one recipient of an analysis folder would get (headers, text, HTML), or
         with --raw the whole message as it would be sent (unsigned).
bounces  reads delivery status notifications (RFC 3464) from the .eml files of a folder: a hard
         bounce marks the recipient bounced and adds the address to the suppression list, which
         every later campaign honours. Files that are not DSNs are listed, not fatal.
export   writes recipients.csv and messages/NNNNNNN.eml (every rendered message) for other channels.
outbox   prints a message the built-in outbox holds.

Without --smtp (or BLASTRADIUS_SMTP_URL) messages go to the built-in outbox: stored in the store,
sealed, and readable with 'notify outbox' or the API, so a campaign can be tried end to end first.

Options:
  --analysis DIR           the --out folder of 'blastradius analyze' (people.csv, orgs.csv, admins.csv)
  --audience A             users or admins
  --campaign ID            the campaign's id: letters, digits, '.', '_', '-' (up to 64)
  --from ADDRESS           the From header, e.g. 'Example Security <security@example.com>'; also the
                           SMTP envelope sender, the Message-ID domain and the default contact
  --reply-to ADDRESS       a Reply-To header
  --smtp URL               smtp://HOST:PORT (STARTTLS when offered) or smtps://USER:PASSWORD@HOST:465
  --dkim-key FILE          PEM RSA private key to sign with (DKIM); needs --dkim-selector
  --dkim-selector S        the selector whose DNS TXT record holds the public key
  --dkim-domain D          the signing domain (default: the From domain)
  --rate N                 at most N messages per second (default: as fast as the relay accepts)
  --concurrency N          messages in flight and SMTP connections (default ${SEND_DEFAULTS.concurrency})
  --domain-concurrency N   messages in flight to one recipient domain (default: --concurrency)
  --max-attempts N         a recipient whose relay keeps answering 4xx or dropping the connection is
                           failed after N tries (default ${SEND_DEFAULTS.maxAttempts}); a 5xx reply fails it at once
  --retry-delay SECONDS    wait before the first retry, doubling each time, at most 10 minutes
                           (default ${SEND_DEFAULTS.retryDelayMs / 1000})
  --locale-default L       the language for recipients whose own has no template (default en)
  --notice FILE            YAML: company, vendor, incident_start, incident_end, discovered_at,
                           not_exposed (list), sender_domains (list), contact, locale_default
  --templates DIR          templates that override the shipped ones (DIR/<locale>/users.yaml, ...)
  --country CC             only recipients in this country (repeatable; 'unknown' for none)
  --category KEY           only recipients exposed in this category or its sub-categories (repeatable)
  --org ID                 only this organisation's members (users) or admins (admins) (repeatable)
  --recipient EMAIL        (preview, outbox) whose message
  --locale L               (preview) render in this language instead of the recipient's
  --raw                    (preview) print the whole RFC 5322 message
  --dir DIR                (bounces) the folder of .eml files
  --out DIR                (export) where to write
  --json                   machine-readable output
  --quiet                  no progress bar
  -h, --help               this help

Without --notice, notices name no vendor or dates, say as not exposed the usual sensitive categories
that the analysis did not find (credentials, API keys, financial data, content, government ids), give
the From domain as the sending domain and the From address as the contact.

Environment: DATABASE_URL or BLASTRADIUS_DATA (the store that keeps the ledger), BLASTRADIUS_SMTP_URL,
BLASTRADIUS_DKIM_KEY, BLASTRADIUS_DKIM_SELECTOR, BLASTRADIUS_DKIM_DOMAIN (defaults for the options
above), BLASTRADIUS_THREADS (threads that build and sign messages).

Exit codes: 0 success, 1 the work failed or stopped with recipients still owed, 2 bad usage or bad input.

Examples:
  blastradius notify preview --analysis out --audience users --recipient ana@example.org --from security@example.com
  blastradius notify send --analysis out --audience users --campaign nov-users --from security@example.com \\
    --smtp smtp://relay.internal:587 --dkim-key dkim.pem --dkim-selector notify2026 --rate 200 --notice notice.yaml
  blastradius notify status --campaign nov-users --json`;

const SUBCOMMANDS = ["send", "status", "preview", "bounces", "export", "outbox"] as const;

const listOption = { type: "string", multiple: true } as const;

function filterOf(v: { country?: string[]; category?: string[]; org?: string[] }): AudienceFilter {
  const f: AudienceFilter = {};
  if (v.country?.length) f.countries = v.country;
  if (v.category?.length) f.categories = v.category;
  if (v.org?.length) f.orgs = v.org;
  return f;
}

function settingsOf(v: {
  analysis: string;
  from: string;
  "reply-to"?: string;
  notice?: string;
  templates?: string;
  "locale-default"?: string;
}): CampaignSettings {
  const notice = v.notice ? loadNoticeFile(v.notice) : {};
  return {
    ...noticeSettings({
      from: v.from,
      notice,
      exposed: exposedInAnalysis(v.analysis),
      localeDefault: v["locale-default"],
      templatesDir: v.templates ?? null,
    }),
    from: v.from,
    replyTo: v["reply-to"] ?? null,
  };
}

function requireAddress(value: string | undefined, flag: string): string {
  const v = requireOption(value, flag).trim();
  if (!/^[^\s@<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(addressOf(v)) || /[\r\n]/.test(v)) {
    throw usageError(
      `${flag} must be an email address such as security@example.com (got ${JSON.stringify(v)})`,
    );
  }
  return v;
}

function countsLine(c: CampaignCounts): string {
  return `${c.total} recipients: ${c.sent} sent, ${c.failed} failed, ${c.bounced} bounced, ${c.suppressed} suppressed, ${c.pending} pending`;
}

async function send(argv: readonly string[], config: Config): Promise<number> {
  const v = parseOptions(argv, {
    analysis: { type: "string" },
    audience: { type: "string" },
    campaign: { type: "string" },
    from: { type: "string" },
    "reply-to": { type: "string" },
    smtp: { type: "string" },
    "dkim-key": { type: "string" },
    "dkim-selector": { type: "string" },
    "dkim-domain": { type: "string" },
    rate: { type: "string" },
    concurrency: { type: "string" },
    "domain-concurrency": { type: "string" },
    "max-attempts": { type: "string" },
    "retry-delay": { type: "string" },
    "locale-default": { type: "string" },
    notice: { type: "string" },
    templates: { type: "string" },
    country: listOption,
    category: listOption,
    org: listOption,
    quiet: { type: "boolean" },
    json: { type: "boolean" },
  });
  const analysis = requireOption(v.analysis, "--analysis");
  const audience = parseAudience(v.audience, "--audience");
  const id = requireCampaignId(requireOption(v.campaign, "--campaign"), "--campaign");
  const from = requireAddress(v.from, "--from");
  if (v["reply-to"] !== undefined) requireAddress(v["reply-to"], "--reply-to");
  const smtp = v.smtp ?? config.smtpUrl;
  if (smtp) parseSmtpUrl(smtp, v.smtp ? "--smtp" : "BLASTRADIUS_SMTP_URL");
  const dkim = dkimOptions(
    {
      keyFile: v["dkim-key"] ?? config.dkimKeyFile,
      selector: v["dkim-selector"] ?? config.dkimSelector,
      domain: v["dkim-domain"] ?? config.dkimDomain,
    },
    from,
  );
  const concurrency = positiveInt(v.concurrency, "--concurrency", SEND_DEFAULTS.concurrency);
  const options = {
    concurrency,
    domainConcurrency: positiveInt(v["domain-concurrency"], "--domain-concurrency", concurrency),
    rate: v.rate === undefined ? null : positiveInt(v.rate, "--rate", 1),
    maxAttempts: positiveInt(v["max-attempts"], "--max-attempts", SEND_DEFAULTS.maxAttempts),
    retryDelayMs:
      v["retry-delay"] === undefined
        ? SEND_DEFAULTS.retryDelayMs
        : seconds(v["retry-delay"], "--retry-delay"),
    threads: renderThreads(config.threads, dkim !== null),
  };
  const settings = settingsOf({ ...v, analysis, from });
  const filter = filterOf(v);

  return withContext(config, async (ctx) => {
    const { campaign, created } = await openAnalysisCampaign(ctx, cliActor, {
      id,
      dir: analysis,
      audience,
      filter,
      settings,
    });
    if (!v.quiet) {
      process.stderr.write(
        created
          ? `Campaign ${id}: ${campaign.recipients} recipients recorded in the ledger.\n`
          : `Campaign ${id}: resuming.\n`,
      );
    }
    const transport: Transport = smtp ? smtpTransport(smtp, { connections: concurrency }) : outboxTransport();
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const bar = terminalProgress(!v.quiet);
    try {
      const report = await sendCampaign(
        ctx,
        cliActor,
        id,
        transport,
        { dkim },
        {
          ...options,
          signal: stop.signal,
          onProgress: (c, note) =>
            bar.progress(note ?? `sent ${c.sent}, failed ${c.failed}`, c.total - c.pending, c.total),
        },
      );
      bar.stop();
      if (v.json) process.stdout.write(`${JSON.stringify(report.counts)}\n`);
      else if (!v.quiet) process.stderr.write(`${countsLine(report.counts)} (via ${transport.describe})\n`);
      if (report.counts.pending > 0) {
        process.stderr.write(
          `Stopped with ${report.counts.pending} recipients owed: run the same command again to resume.\n`,
        );
        return 1;
      }
      return 0;
    } finally {
      bar.stop();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await transport.close();
    }
  });
}

function seconds(value: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(value))
    throw usageError(`${flag} must be a number of seconds (got ${JSON.stringify(value)})`);
  return Math.round(Number(value) * 1000);
}

async function status(argv: readonly string[], config: Config): Promise<number> {
  const v = parseOptions(argv, { campaign: { type: "string" }, json: { type: "boolean" } });
  const id = requireCampaignId(requireOption(v.campaign, "--campaign"), "--campaign");
  return withContext(config, async (ctx) => {
    const { campaign, counts } = await getCampaignStatus(ctx, cliActor, id);
    if (v.json) process.stdout.write(`${JSON.stringify(counts)}\n`);
    else {
      process.stdout.write(
        `Campaign ${id} (${campaign.audience}, ${campaign.status}, approved by ${campaign.approvedBy ?? "nobody yet"})\n${countsLine(counts)}\n`,
      );
    }
    return 0;
  });
}

async function preview(argv: readonly string[]): Promise<number> {
  const v = parseOptions(argv, {
    analysis: { type: "string" },
    audience: { type: "string" },
    recipient: { type: "string" },
    locale: { type: "string" },
    from: { type: "string" },
    "reply-to": { type: "string" },
    notice: { type: "string" },
    templates: { type: "string" },
    "locale-default": { type: "string" },
    country: listOption,
    category: listOption,
    org: listOption,
    raw: { type: "boolean" },
  });
  const analysis = requireOption(v.analysis, "--analysis");
  const audience = parseAudience(v.audience, "--audience");
  const email = requireOption(v.recipient, "--recipient");
  const from = v.from === undefined ? "security@example.com" : requireAddress(v.from, "--from");
  const settings = settingsOf({ ...v, analysis, from });
  const p = await previewFromAnalysis({
    dir: analysis,
    audience,
    filter: filterOf(v),
    email,
    locale: v.locale,
    settings,
  });
  if (v.raw) process.stdout.write(p.raw);
  else process.stdout.write(formatPreview(p));
  return 0;
}

async function bounces(argv: readonly string[], config: Config): Promise<number> {
  const v = parseOptions(argv, {
    dir: { type: "string" },
    json: { type: "boolean" },
    quiet: { type: "boolean" },
  });
  const dir = requireOption(v.dir, "--dir");
  return withContext(config, async (ctx) => {
    const bar = terminalProgress(!v.quiet && !v.json);
    const report = await recordBounceDir(ctx, cliActor, dir, (done, total) =>
      bar.progress("bounces", done, total),
    );
    bar.stop();
    if (v.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      process.stdout.write(
        `${report.files} files: ${report.hard} hard bounces recorded (now suppressed), ${report.soft} soft, ${report.unmatched} hard bounces matching no message we sent, ${report.invalid.length} not readable\n`,
      );
      for (const bad of report.invalid) process.stderr.write(`${bad.file}: ${bad.reason}\n`);
    }
    return 0;
  });
}

async function exportMessages(argv: readonly string[], config: Config): Promise<number> {
  const v = parseOptions(argv, {
    campaign: { type: "string" },
    out: { type: "string" },
    quiet: { type: "boolean" },
  });
  const id = requireCampaignId(requireOption(v.campaign, "--campaign"), "--campaign");
  const out = requireOption(v.out, "--out");
  return withContext(config, async (ctx) => {
    const bar = terminalProgress(!v.quiet);
    const r = await exportCampaign(ctx, cliActor, id, out, (done, total) =>
      bar.progress("export", done, total),
    );
    bar.stop();
    process.stderr.write(`Wrote ${r.recipients} messages and recipients.csv to ${r.dir}\n`);
    return 0;
  });
}

async function outbox(argv: readonly string[], config: Config): Promise<number> {
  const v = parseOptions(argv, {
    campaign: { type: "string" },
    recipient: { type: "string" },
    out: { type: "string" },
  });
  const id = requireCampaignId(requireOption(v.campaign, "--campaign"), "--campaign");
  const email = requireOption(v.recipient, "--recipient");
  return withContext(config, async (ctx) => {
    const m = await readOutboxMessage(ctx, cliActor, id, email);
    if (v.out) await writeFile(v.out, m.raw);
    else process.stdout.write(m.raw);
    return 0;
  });
}

export const notifyCommand: Command = {
  name: "notify",
  help,
  async run(argv, config) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "send":
        return send(rest, config);
      case "status":
        return status(rest, config);
      case "preview":
        return preview(rest);
      case "bounces":
        return bounces(rest, config);
      case "export":
        return exportMessages(rest, config);
      case "outbox":
        return outbox(rest, config);
      default:
        throw subcommandError(sub, SUBCOMMANDS);
    }
  },
};
