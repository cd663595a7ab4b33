import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { tempDir } from "../../lib/test-fixtures.ts";

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../../bin/blastradius.mjs");

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === "DATABASE_URL" || k === "PGOPTIONS" || k.startsWith("BLASTRADIUS_"))
      continue;
    env[k] = v;
  }
  return { ...env, BLASTRADIUS_THREADS: "2", BLASTRADIUS_MEMORY_LIMIT: "1GB" };
}

const VENDORS = `vendors:
  - name: Mixpanel
    catalogue: mixpanel
    processing_locations: [US]
    people_count: 1200000
    data:
      - { category: user.contact.email, fields: [$email], surface: web }
  - name: Billing Co
    access: writes
    data:
      - { category: user.financial, surface: server }
`;
const SENTRY = "name: Sentry\nincident_contact: security@sentry.example\n";
const FIDES = `system:
  - fides_key: helpdesk
    name: Helpdesk
    privacy_declarations:
      - { name: Support, data_categories: [user.name], data_use: essential.service }
`;

// Each run starts a Node process that loads the whole CLI: slow on a busy machine, hence the timeout.
describe("blastradius vendors", { timeout: 900_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  const file = (name: string) => path.join(dir, name);
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, "vendors", ...args], {
      encoding: "utf8",
      env: { ...baseEnv(), ...env },
      timeout: 180_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => {
    dir = await tempDir("blastradius-vendors-cli-");
    env = { BLASTRADIUS_DATA: file("data") };
    await writeFile(file("vendors.yaml"), VENDORS);
    await writeFile(file("sentry.yaml"), SENTRY);
    await writeFile(file("fides.yml"), FIDES);
    await writeFile(file("bad.yaml"), "vendors:\n  - name: A\n    processing_locations: [Germany]\n");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("has help and refuses bad usage with exit 2", () => {
    const h = cli("--help");
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Usage: blastradius vendors validate FILE/);
    assert.match(h.stdout, /Exit codes:/);
    const unknown = cli("frobnicate");
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /unknown subcommand 'frobnicate': validate, import, export, attach-scan, list/,
    );
    const format = cli("export", "--format", "csv");
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format must be one of yaml, fides/);
  });

  it("validates files without a store, naming the file and field that is wrong", () => {
    const ok = cli("validate", file("vendors.yaml"), file("sentry.yaml"), file("fides.yml"));
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "4 vendors OK\n");
    const bad = cli("validate", file("vendors.yaml"), file("bad.yaml"));
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /bad\.yaml: vendors\.0\.processing_locations\.0: an ISO 3166-1 alpha-2 country code/,
    );
    const twice = cli("validate", file("vendors.yaml"), file("vendors.yaml"));
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /Mixpanel: the vendor is also in/);
    assert.equal(existsSync(file("data")), false, "validate opened no store");
  });

  it("imports (dry run first), exports, and export then import changes nothing", async () => {
    const dry = cli("import", file("vendors.yaml"), file("sentry.yaml"), "--dry-run");
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /dry run: would be 3 created, 0 updated, 0 unchanged; nothing was changed/);
    const first = cli("import", file("vendors.yaml"), file("sentry.yaml"), file("fides.yml"));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^ {2}created {2}Mixpanel$/m);
    assert.match(first.stdout, /4 created, 0 updated, 0 unchanged$/m);

    await writeFile(file("sentry.yaml"), `${SENTRY}breach_notice_hours: 24\n`);
    const changed = cli("import", file("sentry.yaml"));
    assert.match(
      changed.stdout,
      /updated {2}Sentry \(breach_notice_hours\)\n0 created, 1 updated, 0 unchanged/,
    );

    const exported = cli("export", "--out", file("export.yaml"));
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /wrote 4 vendors to /);
    const text = await readFile(file("export.yaml"), "utf8");
    assert.deepEqual(
      (parseYaml(text) as { vendors: Array<{ name: string }> }).vendors.map((v) => v.name),
      ["Billing Co", "Helpdesk", "Mixpanel", "Sentry"],
    );
    const again = cli("import", file("export.yaml"), "--json");
    assert.equal(again.code, 0, again.stderr);
    const result = JSON.parse(again.stdout) as { created: number; updated: number; unchanged: number };
    assert.deepEqual([result.created, result.updated, result.unchanged], [0, 0, 4]);

    const fides = cli("export", "--format", "fides");
    assert.equal(fides.code, 0, fides.stderr);
    const systems = (parseYaml(fides.stdout) as { system: Array<{ fides_key: string }> }).system;
    assert.deepEqual(
      systems.map((s) => s.fides_key),
      ["billing_co", "helpdesk", "mixpanel", "sentry"],
    );

    const unknownOwner = file("owner.yaml");
    await writeFile(unknownOwner, "name: Mixpanel\nowner: ghost@example.com\n");
    const refused = cli("import", unknownOwner);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /owner\.yaml: Mixpanel: owner: no account has the email ghost@example\.com/);
  });

  it("attaches a scan's --out folder and lists the vendors", async () => {
    const out = file("scan-out");
    await mkdir(out, { recursive: true });
    await writeFile(
      path.join(out, "summary.json"),
      JSON.stringify({
        scanned_at: "2026-03-01T10:00:00Z",
        urls: ["https://app.shop.test/"],
        pages: [],
        flows: [
          {
            vendor: "Mixpanel",
            vendor_id: "mixpanel",
            category: "user.contact.email",
            declared: true,
            seen: true,
            seed_fields: ["email"],
          },
          {
            vendor: "Hotjar",
            vendor_id: "hotjar",
            category: "user.name",
            declared: false,
            seen: true,
            seed_fields: ["name"],
          },
        ],
        third_party_hosts: [
          { host: "api-js.mixpanel.com", vendor: "Mixpanel", vendor_id: "mixpanel", requests: 4, failed: 0 },
        ],
      }),
    );
    const r = cli("attach-scan", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^attached scan [0-9a-f-]{36} of https:\/\/app\.shop\.test\//);
    assert.match(r.stdout, /Mixpanel: 1 declared flow\(s\) seen, 0 undeclared/);
    assert.match(r.stdout, /Not in the inventory:\n {2}Hotjar \(\): user\.name/);
    const list = cli("list");
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /critical\s+active\s+Mixpanel\s+\(1 declared, 0 undeclared\)/);
  });
});
