import { readFile, writeFile } from "node:fs/promises";
import type { Context } from "../../app/context.ts";
import { cliActor } from "../../auth/roles.ts";
import { badInput } from "../../lib/errors.ts";
import { attachScan, loadScanDir } from "../../vendors/attach-scan.ts";
import { exportFormat, exportVendors } from "../../vendors/export-vendors.ts";
import {
  type ImportFormat,
  type ImportItem,
  type ImportResult,
  importFormat,
  importVendors,
  parseImport,
} from "../../vendors/import-vendors.ts";
import { listVendors } from "../../vendors/manage-vendors.ts";
import { type Command, expectArguments, parseCommandLine, subcommandError, withContext } from "../command.ts";

const SUBCOMMANDS = ["validate", "import", "export", "attach-scan", "list"] as const;

const help = `Usage: blastradius vendors validate FILE... [--format auto|yaml|fides]
       blastradius vendors import FILE... [--dry-run] [--format auto|yaml|fides] [--json]
       blastradius vendors export [--format yaml|fides] [--out FILE]
       blastradius vendors attach-scan DIR [--json]
       blastradius vendors list [--json]

The vendor inventory as code: one YAML (or JSON) file per vendor or one for all, kept beside the
code that sends them data, and Fides system manifests for teams that already use Fides.

validate     checks the files without a store: keys, categories, country codes, emails, hours,
             access, duplicate vendors. Prints "N vendors OK", or the file and field that is wrong.
import       creates or updates each vendor, matched by name whatever its case. The file is the
             truth for the fields it gives (a field left out stays as it is; null clears it) and,
             when it gives data:, for the declared flows. All or nothing: one bad vendor changes
             nothing. --dry-run reports what would change and changes nothing. Prints how many
             vendors were created, updated and unchanged; each change is in the audit log (actor
             "cli").
export       every vendor in the format import reads (export then import changes nothing), to
             stdout or --out FILE. --format fides writes a Fides manifest (see README for what
             Fides can hold).
attach-scan  attaches the results of 'blastradius scan --out DIR': summary.json (and findings.json's
             hosts). Declared flows the scan saw are marked seen; flows it saw that nobody declared
             are added as undeclared; vendors it met that the inventory lacks are listed (not
             created). Only the summary is kept, never the HAR.
list         every vendor with its risk tier, status and flows.

The file format (vendors: with a list, or one vendor's fields at the top):
  vendors:
    - name: Mixpanel
      catalogue: mixpanel              # the scanner catalogue's id
      description: Product analytics
      website: https://mixpanel.com
      status: active                   # active | under_review | offboarding | offboarded
      domains: [mixpanel.com]
      purposes: [product analytics]
      processing_locations: [US, DE]   # ISO 3166-1 alpha-2
      sub_processors: [{ name: Google Cloud, purpose: hosting, location: US }]
      contract_ref: MSA-2023-114
      dpa_ref: DPA-2023-114
      certifications: [SOC 2 Type II, ISO 27001]
      incident_contact: security@mixpanel.example
      breach_notice_hours: 72
      access: receives                 # receives | reads | writes | admin
      people_count: 1200000
      risk_tier: high                  # an override; otherwise computed
      requirement_set: baseline
      owner: lead@example.com          # an account's email
      review_interval_days: 365
      next_review: 2027-01-15
      data:
        - { category: user.contact.email, fields: [$email], surface: web }  # no surface: every one

Options:
  --format F   validate/import: auto (default: a top-level system: list is Fides), yaml or fides;
               export: yaml (default) or fides
  --dry-run    (import) report what would change; change nothing
  --out FILE   (export) write to FILE instead of stdout
  --json       print the result as JSON
  -h, --help   this help

Environment: DATABASE_URL (a PostgreSQL server, with BLASTRADIUS_ENCRYPTION_KEY) or BLASTRADIUS_DATA
(the embedded store's folder; not while 'blastradius serve' uses it). validate needs neither.

Exit codes: 0 success, 1 the work failed (e.g. the store is in use), 2 bad usage or bad input (the
message names the file and the field).

Examples:
  blastradius vendors validate vendors/*.yaml
  blastradius vendors import vendors/*.yaml --dry-run
  blastradius vendors import fides/systems.yml --format fides
  blastradius vendors export --out vendors.yaml
  blastradius scan --url https://staging.example --seed seed.yaml --out scan-out
  blastradius vendors attach-scan scan-out`;

const print = (line: string) => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`${line}\n`);

async function readFiles(files: readonly string[], format: ImportFormat) {
  const items: ImportItem[] = [];
  const warnings: string[] = [];
  const names = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw badInput(
        `${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    const parsed = parseImport(text, file, format);
    for (const item of parsed.items) {
      const prior = names.get(item.record.name.toLowerCase());
      if (prior)
        throw badInput(`${file}: ${item.record.name}: the vendor is also in ${prior}; give each vendor once`);
      names.set(item.record.name.toLowerCase(), file);
    }
    items.push(...parsed.items);
    warnings.push(...parsed.warnings);
  }
  return { items, warnings };
}

export function formatImportResult(r: ImportResult): string[] {
  const lines = r.vendors
    .filter((v) => v.action !== "unchanged")
    .map(
      (v) => `  ${v.action.padEnd(8)} ${v.name}${v.action === "updated" ? ` (${v.fields.join(", ")})` : ""}`,
    );
  const counts = `${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged`;
  return [...lines, r.dry_run ? `dry run: would be ${counts}; nothing was changed` : counts];
}

type Work = (ctx: Context) => Promise<number>;

/** Options are checked before the store is opened; validate never opens it. */
async function plan(sub: string | undefined, argv: readonly string[]): Promise<Work | number> {
  switch (sub) {
    case "validate": {
      const { values: o, positionals } = parseCommandLine(argv, { format: { type: "string" } });
      if (positionals.length === 0) expectArguments(positionals, ["FILE..."]);
      const { items, warnings } = await readFiles(positionals, importFormat(o.format, "--format"));
      for (const w of warnings) warn(`warning: ${w}`);
      print(`${items.length} vendor${items.length === 1 ? "" : "s"} OK`);
      return 0;
    }
    case "import": {
      const { values: o, positionals } = parseCommandLine(argv, {
        format: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      });
      if (positionals.length === 0) expectArguments(positionals, ["FILE..."]);
      const { items, warnings } = await readFiles(positionals, importFormat(o.format, "--format"));
      return async (ctx) => {
        const result = await importVendors(ctx, cliActor, items, { dryRun: o["dry-run"], warnings });
        for (const w of result.warnings) warn(`warning: ${w}`);
        print(o.json ? JSON.stringify(result, null, 2) : formatImportResult(result).join("\n"));
        return 0;
      };
    }
    case "export": {
      const { values: o, positionals } = parseCommandLine(argv, {
        format: { type: "string" },
        out: { type: "string" },
      });
      expectArguments(positionals, []);
      const format = exportFormat(o.format, "--format");
      return async (ctx) => {
        const { text, count } = await exportVendors(ctx, cliActor, format);
        if (o.out) {
          await writeFile(o.out, text);
          warn(`wrote ${count} vendor${count === 1 ? "" : "s"} to ${o.out}`);
        } else process.stdout.write(text);
        return 0;
      };
    }
    case "attach-scan": {
      const { values: o, positionals } = parseCommandLine(argv, {
        json: { type: "boolean", default: false },
      });
      const [dir = ""] = expectArguments(positionals, ["DIR"]);
      const upload = await loadScanDir(dir);
      return async (ctx) => {
        const r = await attachScan(ctx, cliActor, upload, `${dir}/summary.json`);
        if (o.json) {
          print(JSON.stringify(r, null, 2));
          return 0;
        }
        print(`attached scan ${r.scan.id} of ${r.scan.urls.join(", ")} (${r.scan.scanned_at})`);
        for (const v of r.vendors)
          print(`  ${v.name}: ${v.seen} declared flow(s) seen, ${v.undeclared} undeclared`);
        if (r.unknown_vendors.length > 0) {
          print("Not in the inventory:");
          for (const u of r.unknown_vendors) {
            print(
              `  ${u.vendor} (${u.hosts.join(", ")})${u.categories.length ? `: ${u.categories.join(", ")}` : ""}`,
            );
          }
        }
        return 0;
      };
    }
    case "list": {
      const { values: o, positionals } = parseCommandLine(argv, {
        json: { type: "boolean", default: false },
      });
      expectArguments(positionals, []);
      return async (ctx) => {
        const vendors = await listVendors(ctx, cliActor);
        if (o.json) print(JSON.stringify(vendors, null, 2));
        else if (vendors.length === 0) warn("(no vendors yet: blastradius vendors import FILE)");
        else {
          for (const v of vendors) {
            const undeclared = v.flows.filter((f) => f.state === "undeclared").length;
            print(
              `${v.id}  ${(v.risk_tier ?? "-").padEnd(8)}  ${v.status.padEnd(12)}  ${v.name}  (${v.flows.length - undeclared} declared, ${undeclared} undeclared)`,
            );
          }
        }
        return 0;
      };
    }
    default:
      throw subcommandError(sub, SUBCOMMANDS);
  }
}

export const vendorsCommand: Command = {
  name: "vendors",
  help,
  run: async (argv, config) => {
    const [sub, ...rest] = argv;
    const work = await plan(sub, rest);
    return typeof work === "number" ? work : withContext(config, work);
  },
};
