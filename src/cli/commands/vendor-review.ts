import type { Context } from "../../app/context.ts";
import { cliActor } from "../../auth/roles.ts";
import { AppError, usageError } from "../../lib/errors.ts";
import { parseSmtpUrl } from "../../notify/transports.ts";
import type { Queryable } from "../../store/db.ts";
import {
  getOffboarding,
  OFFBOARDING_STEPS,
  type Offboarding,
  recordOffboardingStep,
  startOffboarding,
} from "../../vendors/offboarding.ts";
import {
  ASSIGNABLE_STATUSES,
  assignRequirementSet,
  assignRequirementsByTier,
  listRequirementSets,
  RISK_TIER_ORDER,
  type RiskTier,
} from "../../vendors/requirement-sets.ts";
import { type VendorDashboard, vendorDashboard } from "../../vendors/vendor-dashboard.ts";
import {
  completeReview,
  defaultReminderFrom,
  REMIND_WITHIN_DAYS_DEFAULT,
  type ReminderReport,
  reminderDkim,
  reminderTransport,
  sendReviewReminders,
} from "../../vendors/vendor-reviews.ts";
import { type Command, expectArguments, parseCommandLine, subcommandError, withContext } from "../command.ts";

const SUBCOMMANDS = ["sets", "assign", "remind", "complete", "offboard", "dashboard"] as const;

const help = `Usage: blastradius review sets [--json]
       blastradius review assign --set NAME --min-tier TIER [--status S ...] [--json]
       blastradius review assign VENDOR (--set NAME | --none) [--json]
       blastradius review remind [--within-days N] [--dry-run] [--from ADDRESS] [--smtp URL] [--json]
       blastradius review complete VENDOR [--note TEXT] [--json]
       blastradius review offboard VENDOR [--start | --step NAME [--scan ID] [--note TEXT]] [--json]
       blastradius review dashboard [--json]

Ecosystem review and offboarding of the vendors in the inventory. VENDOR is a vendor's id or its
name. Everything done here is recorded in the audit log with the actor "cli".

sets       the requirement sets (src/vendors/requirements/*.yaml) and their requirements.
assign     holds vendors to a requirement set: every vendor at or above --min-tier in one step
           (vendors without a tier, being offboarded or offboarded are left alone), or one VENDOR.
remind     emails each vendor's owner when its next review is --within-days away or past, once
           per review cycle, and marks the vendor reminded. For cron; the server also runs it at
           start and every 24 hours. Without --smtp (or BLASTRADIUS_SMTP_URL) the messages go to
           the built-in outbox: read one with 'blastradius notify outbox --campaign ID --recipient
           EMAIL' (the campaign id is printed). Exits 1 when a message could not be sent.
complete   records a finished review: the next falls the vendor's review interval later (365 days
           when it has none), and a new reminder cycle starts. --note is kept in the vendor's notes.
offboard   without --start or --step: prints the checklist. --start sets the status offboarding
           (open questionnaire links stop working). --step marks one step done:
           ${OFFBOARDING_STEPS.join(", ")}.
           integration_removed needs --scan: an attached scan, run and attached after offboarding
           started, that no longer sees the vendor. deletion_certificate needs deletion_requested
           first. When every step is done the vendor is offboarded.
dashboard  vendors by tier and review state, overdue reviews, open findings, offboardings.

Options:
  --set NAME           a requirement set, e.g. baseline or elevated
  --none               (assign VENDOR) hold the vendor to no set
  --min-tier TIER      one of ${RISK_TIER_ORDER.join(", ")}
  --status S           (assign) which vendors, repeatable: ${ASSIGNABLE_STATUSES.join(", ")} (default both)
  --within-days N      (remind) remind this many days before the review date (default ${REMIND_WITHIN_DAYS_DEFAULT})
  --dry-run            (remind) list who would be reminded; send and mark nothing
  --from ADDRESS       (remind) the From header (default blastradius@ the first of
                       BLASTRADIUS_OFFICIAL_DOMAINS, or @localhost)
  --smtp URL           (remind) smtp://host:port or smtps://user:password@host:465 instead of
                       BLASTRADIUS_SMTP_URL
  --note TEXT          (complete, offboard --step) what was done
  --start              (offboard) start offboarding
  --step NAME          (offboard) mark a checklist step done
  --scan ID            (offboard --step integration_removed) the attached scan's id
  --json               print JSON instead of text
  -h, --help           this help

Environment: DATABASE_URL or BLASTRADIUS_DATA (the store), BLASTRADIUS_SMTP_URL and
BLASTRADIUS_DKIM_KEY/_SELECTOR/_DOMAIN (remind).

Exit codes: 0 success, 1 the work failed (e.g. a reminder was not sent), 2 bad usage, bad input,
no such vendor, or a step that cannot be recorded yet.

Examples:
  blastradius review assign --set elevated --min-tier high
  blastradius review remind --within-days 30 --dry-run
  blastradius review offboard Mixpanel --start
  blastradius review offboard Mixpanel --step integration_removed --scan 7d1c... --note "SDK removed in web 4.2"
  blastradius review offboard Mixpanel --step keys_revoked --note "project token deleted"`;

const print = (line: string) => process.stdout.write(`${line}\n`);
const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A vendor by id or by name (case-insensitive). */
export async function resolveVendor(q: Queryable, ref: string): Promise<{ id: string; name: string }> {
  const r = UUID.test(ref)
    ? await q.query<{ id: string; name: string }>("SELECT id::text AS id, name FROM vendors WHERE id = $1", [
        ref.toLowerCase(),
      ])
    : await q.query<{ id: string; name: string }>(
        "SELECT id::text AS id, name FROM vendors WHERE lower(name) = lower($1) ORDER BY id LIMIT 2",
        [ref.trim()],
      );
  if (!r.rows[0])
    throw new AppError("NOT_FOUND", `VENDOR: no vendor ${JSON.stringify(ref)} (give its id or name)`);
  return r.rows[0];
}

function tier(value: string | undefined): RiskTier {
  if (!value) throw usageError("missing required option --min-tier TIER");
  if (!(RISK_TIER_ORDER as readonly string[]).includes(value)) {
    throw usageError(
      `--min-tier must be one of ${RISK_TIER_ORDER.join(", ")} (got ${JSON.stringify(value)})`,
    );
  }
  return value as RiskTier;
}

function withinDays(value: string | undefined): number {
  if (value === undefined) return REMIND_WITHIN_DAYS_DEFAULT;
  if (!/^\d+$/.test(value) || Number(value) > 365) {
    throw usageError(`--within-days must be a whole number from 0 to 365 (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

export function formatOffboarding(o: Offboarding): string {
  const lines = [
    `Offboarding ${o.name} (${o.vendor_id}): status ${o.status}; ${o.done_steps} of ${o.total_steps} steps done${o.started_at ? `; started ${o.started_at}` : ""}`,
  ];
  for (const s of o.steps) {
    lines.push(
      s.done
        ? `  [x] ${s.step.padEnd(21)} ${s.done_at} by ${s.done_by_label ?? "?"}${s.scan_id ? `, scan ${s.scan_id}` : ""}${s.note ? `: ${s.note}` : ""}`
        : `  [ ] ${s.step}`,
    );
  }
  return lines.join("\n");
}

export function formatReminders(r: ReminderReport, dryRun: boolean): string {
  const lines = r.items.map(
    (i) =>
      `  ${i.outcome.padEnd(10)} ${i.next_review_at}${i.overdue ? " (overdue)" : ""}  ${i.name}  ${i.owner_email ?? "(no owner: set one in the inventory)"}`,
  );
  const head = dryRun
    ? `${r.items.length} vendor(s) due for a reminder (dry run: nothing sent)`
    : `${r.sent} reminder(s) sent, ${r.failed} failed, ${r.no_owner} vendor(s) without an owner (via ${r.transport}${r.campaign_id ? `, campaign ${r.campaign_id}` : ""})`;
  return [head, ...lines].join("\n");
}

export function formatDashboard(d: VendorDashboard): string {
  const lines = [`Vendors as of ${d.as_of} (due soon: within ${d.due_soon_days} days)`];
  lines.push("  tier      total  reviewed  due soon  overdue  never reviewed");
  for (const [t, c] of Object.entries(d.by_tier)) {
    lines.push(
      `  ${t.padEnd(8)} ${String(c.total).padStart(6)} ${String(c.reviewed).padStart(9)} ${String(c.due_soon).padStart(9)} ${String(c.overdue).padStart(8)} ${String(c.never_reviewed).padStart(15)}`,
    );
  }
  lines.push(`Overdue reviews (${d.overdue_reviews.length}):`);
  for (const o of d.overdue_reviews) {
    lines.push(`  ${o.next_review_at}  ${o.name}  owner ${o.owner?.email ?? "-"}`);
  }
  const f = d.open_findings;
  lines.push(
    `Open findings: ${f.total} (${f.overdue} overdue; ${Object.entries(f.by_severity)
      .map(([s, n]) => `${s} ${n}`)
      .join(", ")})`,
  );
  for (const i of f.items) {
    lines.push(
      `  ${i.due_at ?? "no due date"}  ${i.severity.padEnd(8)} ${i.vendor_name}: ${i.title}${i.owner ? ` (${i.owner.email})` : " (no owner)"}`,
    );
  }
  lines.push(`Offboarding (${d.offboarding.length}):`);
  for (const o of d.offboarding) lines.push(`  ${o.name}: ${o.done_steps} of ${o.total_steps} steps done`);
  return lines.join("\n");
}

type Work = (ctx: Context) => Promise<number>;

function plan(sub: string | undefined, argv: readonly string[]): Work {
  switch (sub) {
    case "sets": {
      const { values: o, positionals } = parseCommandLine(argv, {
        json: { type: "boolean", default: false },
      });
      expectArguments(positionals, []);
      return async () => {
        const sets = await listRequirementSets(cliActor);
        if (o.json) printJson(sets);
        else
          print(
            sets
              .map((s) =>
                [
                  `${s.name}: ${s.title}${s.extends ? ` (extends ${s.extends})` : ""}; findings ${s.finding_severity}`,
                  ...s.requirements.map((r) => `  ${r.id.padEnd(28)} ${r.title}`),
                ].join("\n"),
              )
              .join("\n\n"),
          );
        return 0;
      };
    }
    case "assign": {
      const { values: o, positionals } = parseCommandLine(argv, {
        set: { type: "string" },
        none: { type: "boolean", default: false },
        "min-tier": { type: "string" },
        status: { type: "string", multiple: true },
        json: { type: "boolean", default: false },
      });
      if (positionals.length > 0) {
        const [ref = ""] = expectArguments(positionals, ["VENDOR"]);
        if (o["min-tier"] !== undefined || o.status !== undefined) {
          throw usageError("--min-tier and --status are for assigning by tier, without VENDOR");
        }
        if (o.none === (o.set !== undefined)) throw usageError("give either --set NAME or --none");
        const set = o.none ? null : (o.set as string);
        return async (ctx) => {
          const v = await resolveVendor(ctx.db, ref);
          const done = await assignRequirementSet(ctx, cliActor, v.id, set);
          if (o.json) printJson(done);
          else
            print(
              `${v.name}: requirement set ${done.requirement_set ?? "none"} (was ${done.previous ?? "none"})`,
            );
          return 0;
        };
      }
      if (o.none) throw usageError("--none needs VENDOR");
      if (!o.set) throw usageError("missing required option --set NAME");
      const set = o.set;
      const minTier = tier(o["min-tier"]);
      for (const s of o.status ?? []) {
        if (!(ASSIGNABLE_STATUSES as readonly string[]).includes(s)) {
          throw usageError(
            `--status must be one of ${ASSIGNABLE_STATUSES.join(", ")} (got ${JSON.stringify(s)})`,
          );
        }
      }
      return async (ctx) => {
        const r = await assignRequirementsByTier(ctx, cliActor, {
          set,
          min_tier: minTier,
          ...(o.status ? { include_statuses: o.status } : {}),
        });
        if (o.json) printJson(r);
        else
          print(
            `${set} assigned to ${r.assigned} vendor(s) at or above ${minTier}; ${r.unchanged} had it already${r.vendors.length ? `\n${r.vendors.map((id) => `  ${id}`).join("\n")}` : ""}`,
          );
        return 0;
      };
    }
    case "remind": {
      const { values: o, positionals } = parseCommandLine(argv, {
        "within-days": { type: "string" },
        "dry-run": { type: "boolean", default: false },
        from: { type: "string" },
        smtp: { type: "string" },
        json: { type: "boolean", default: false },
      });
      expectArguments(positionals, []);
      const within = withinDays(o["within-days"]);
      if (o.smtp !== undefined) parseSmtpUrl(o.smtp, "--smtp");
      if (o.from !== undefined && !/@[A-Za-z0-9.-]+>?\s*$/.test(o.from)) {
        throw usageError(
          `--from must be an address such as security@example.com (got ${JSON.stringify(o.from)})`,
        );
      }
      return async (ctx) => {
        const from = o.from ?? defaultReminderFrom(ctx.config);
        const transport = reminderTransport(ctx.config, o.smtp);
        try {
          const report = await sendReviewReminders(ctx, cliActor, {
            transport,
            within_days: within,
            dry_run: o["dry-run"],
            from,
            dkim: o["dry-run"] ? null : reminderDkim(ctx.config, from),
          });
          if (o.json) printJson(report);
          else print(formatReminders(report, o["dry-run"]));
          return report.failed > 0 ? 1 : 0;
        } finally {
          await transport.close();
        }
      };
    }
    case "complete": {
      const { values: o, positionals } = parseCommandLine(argv, {
        note: { type: "string" },
        json: { type: "boolean", default: false },
      });
      const [ref = ""] = expectArguments(positionals, ["VENDOR"]);
      return async (ctx) => {
        const v = await resolveVendor(ctx.db, ref);
        const done = await completeReview(ctx, cliActor, v.id, { note: o.note ?? null });
        if (o.json) printJson(done);
        else print(`${v.name}: review recorded; the next is due on ${done.next_review_at}`);
        return 0;
      };
    }
    case "offboard": {
      const { values: o, positionals } = parseCommandLine(argv, {
        start: { type: "boolean", default: false },
        step: { type: "string" },
        scan: { type: "string" },
        note: { type: "string" },
        json: { type: "boolean", default: false },
      });
      const [ref = ""] = expectArguments(positionals, ["VENDOR"]);
      if (o.start && o.step !== undefined) throw usageError("give --start or --step, not both");
      if (o.step !== undefined && !(OFFBOARDING_STEPS as readonly string[]).includes(o.step)) {
        throw usageError(
          `--step must be one of ${OFFBOARDING_STEPS.join(", ")} (got ${JSON.stringify(o.step)})`,
        );
      }
      if (o.step === undefined && (o.scan !== undefined || o.note !== undefined)) {
        throw usageError("--scan and --note go with --step NAME");
      }
      if (o.scan !== undefined && o.step !== "integration_removed") {
        throw usageError("--scan goes with --step integration_removed");
      }
      return async (ctx) => {
        const v = await resolveVendor(ctx.db, ref);
        const result = o.start
          ? await startOffboarding(ctx, cliActor, v.id)
          : o.step !== undefined
            ? await recordOffboardingStep(ctx, cliActor, v.id, {
                step: o.step,
                note: o.note ?? null,
                scan_id: o.scan ?? null,
              })
            : await getOffboarding(ctx, cliActor, v.id);
        if (o.json) printJson(result);
        else print(formatOffboarding(result));
        return 0;
      };
    }
    case "dashboard": {
      const { values: o, positionals } = parseCommandLine(argv, {
        json: { type: "boolean", default: false },
      });
      expectArguments(positionals, []);
      return async (ctx) => {
        const d = await vendorDashboard(ctx, cliActor);
        if (o.json) printJson(d);
        else print(formatDashboard(d));
        return 0;
      };
    }
    default:
      throw subcommandError(sub, SUBCOMMANDS);
  }
}

export const reviewCommand: Command = {
  name: "review",
  help,
  run: async (argv, config) => {
    const [sub, ...rest] = argv;
    const work = plan(sub, rest);
    return withContext(config, work);
  },
};
