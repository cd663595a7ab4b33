import {
  type AuditVerification,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  type ListAuditOptions,
  listAudit,
  verifyAudit,
} from "../../audit/audit-log.ts";
import { canonicalJson } from "../../audit/hash-event.ts";
import { usageError } from "../../lib/errors.ts";
import type { Queryable } from "../../store/db.ts";
import { openStore, type StoreOptions } from "../../store/open-store.ts";
import { type Command, parseOptions, positiveInt } from "../command.ts";

const help = `Usage: blastradius audit verify [--anchor SEQ:HASH] [--json]
       blastradius audit list [--after SEQ] [--limit N] [--action NAME] [--subject ID] [--json]

The audit log records who did what in the workspace (ids and counts, never personal data). Each
event is chained to the one before it by a SHA-256 hash, and the database refuses to change or
remove events.

verify  walks the whole chain and names every event that was changed, deleted, reordered or forged
        by someone who got around the database's refusal. It prints the head (last seq and hash):
        keep that somewhere the store's administrators cannot write (a ticket, a signed mail), and
        pass it back with --anchor to also catch a cut tail or a chain rewritten from scratch.
        Exit 0 when the log is intact, 1 when it is not (each problem on its own line on stderr).
list    prints events in order, oldest first, one per line (seq, time, actor, action, subject,
        detail). Page with --after: the last seq printed.

Options:
  --anchor SEQ:HASH  (verify) a head printed by an earlier verify, e.g. 120:9f86d08…; that event
                     must still exist with that hash
  --after SEQ        (list) only events after this seq (default: from the start)
  --limit N          (list) at most N events, 1 to ${LIST_LIMIT_MAX} (default ${LIST_LIMIT_DEFAULT})
  --action NAME      (list) only events of this action
  --subject ID       (list) only events about this subject
  --json             print JSON instead of text (verify: the full result, exit code unchanged)
  -h, --help         this help

Environment: DATABASE_URL (a PostgreSQL server) or BLASTRADIUS_DATA (the embedded store's folder).

Exit codes: 0 success, 1 the log is not intact (or the work failed), 2 bad usage or bad input.

Examples:
  blastradius audit verify
  blastradius audit verify --anchor 120:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  blastradius audit list --after 100 --limit 50
  blastradius audit list --action incident.create --json`;

/** Where the subcommands write, so tests can read what a person would see. */
export type Output = { out: (line: string) => void; err: (line: string) => void };

const stdio: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export function parseAnchor(value: string | undefined): { seq: number; hash: string } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+):([0-9a-fA-F]{64})$/.exec(value.trim());
  const seq = Number(m?.[1]);
  if (!m?.[2] || !Number.isSafeInteger(seq) || seq < 1) {
    throw usageError(
      `--anchor must be SEQ:HASH, a seq of at least 1 and the 64 hex digits verify printed (got ${JSON.stringify(value)})`,
    );
  }
  return { seq, hash: m[2].toLowerCase() };
}

export function formatVerification(v: AuditVerification): string {
  return `audit log intact: ${v.events} events, ${v.head ? `head ${v.head.seq} ${v.head.hash}` : "no head yet (empty)"}`;
}

/** verify's whole behaviour after option parsing; returns the exit code (1: tampering found). */
export async function runAuditVerify(
  db: Queryable,
  opts: { anchor?: { seq: number; hash: string }; json?: boolean },
  io: Output = stdio,
): Promise<number> {
  const v = await verifyAudit(db, { anchor: opts.anchor });
  if (opts.json) io.out(JSON.stringify(v, null, 2));
  if (v.ok) {
    if (!opts.json) io.out(formatVerification(v));
    return 0;
  }
  for (const p of v.problems) io.err(p.problem);
  io.err(
    `audit log NOT intact: ${v.problems.length} problem${v.problems.length === 1 ? "" : "s"} in ${v.events} events`,
  );
  return 1;
}

export async function runAuditList(
  db: Queryable,
  opts: ListAuditOptions & { json?: boolean },
  io: Output = stdio,
): Promise<number> {
  const limit = opts.limit ?? LIST_LIMIT_DEFAULT;
  const events = await listAudit(db, { ...opts, limit });
  if (opts.json) {
    io.out(JSON.stringify(events, null, 2));
  } else {
    for (const e of events) {
      io.out([e.seq, e.at, e.actor, e.action, e.subject ?? "-", canonicalJson(e.detail)].join("  "));
    }
    const last = events[events.length - 1];
    // A full page probably means more; stderr keeps stdout a clean list.
    if (last && events.length === limit) io.err(`(more may follow: --after ${last.seq})`);
  }
  return 0;
}

function afterSeq(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw usageError(`--after must be a whole number of at least 0 (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

/** The command with its output injectable; auditCommand.run writes to stdout and stderr. */
export async function runAudit(
  argv: readonly string[],
  config: StoreOptions,
  io: Output = stdio,
): Promise<number> {
  const [sub, ...rest] = argv;
  let run: (db: Queryable) => Promise<number>;
  if (sub === "verify") {
    const o = parseOptions(rest, { anchor: { type: "string" }, json: { type: "boolean" } });
    const anchor = parseAnchor(o.anchor);
    run = (db) => runAuditVerify(db, { anchor, json: o.json }, io);
  } else if (sub === "list") {
    const o = parseOptions(rest, {
      after: { type: "string" },
      limit: { type: "string" },
      action: { type: "string" },
      subject: { type: "string" },
      json: { type: "boolean" },
    });
    const limit = positiveInt(o.limit, "--limit", LIST_LIMIT_DEFAULT);
    if (limit > LIST_LIMIT_MAX) throw usageError(`--limit must be at most ${LIST_LIMIT_MAX} (got ${limit})`);
    const opts = { afterSeq: afterSeq(o.after), limit, action: o.action, subject: o.subject, json: o.json };
    run = (db) => runAuditList(db, opts, io);
  } else {
    throw usageError(
      sub === undefined
        ? "missing subcommand: verify or list"
        : `unknown subcommand '${sub}': verify or list`,
    );
  }
  // Options are checked before the store is opened, so a typo never waits on a busy store.
  const db = await openStore(config);
  try {
    return await run(db);
  } finally {
    await db.close();
  }
}

export const auditCommand: Command = {
  name: "audit",
  help,
  run: (argv, config) => runAudit(argv, config),
};
