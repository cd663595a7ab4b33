import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestApp, TEST_IDENTITY, type TestApp } from "./test-app/serve-test-app.ts";

/**
 * The scanner against an app wired to real vendor SDKs from npm (mixpanel-browser, posthog-js,
 * @segment/analytics-next, @datadog/browser-rum, @sentry/browser), a Mixpanel project behind a
 * first-party proxy, an ad pixel sending the SHA-256 of the normalised email, and a gzip beacon.
 * Every vendor host resolves to a local sink; nothing else resolves at all (--block-unmapped).
 * The SDKs' own bot filters stay on: posthog-js drops everything from a browser that looks automated.
 */

const root = path.resolve(import.meta.dirname, "../..");
const cli = path.join(root, "bin", "blastradius.mjs");

type Finding = {
  vendor: string;
  vendor_id: string;
  host: string;
  url: string;
  method: string;
  category: string;
  seed_field: string;
  chain: string[];
  declared: boolean;
  first_party_proxy: boolean;
};

// Async: the test app answers the browser from this process, so a blocking spawn would hang it.
function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("blastradius scan on the test app", { timeout: 240_000 }, () => {
  let app: TestApp;
  let dir: string;
  let seedFile: string;
  const scanArgs = (out: string, inventory: string, extra: string[]) => [
    "scan",
    "--url",
    app.url,
    "--seed",
    seedFile,
    "--steps",
    path.join(root, "src/scan/test-app/steps.ts"),
    ...app.mapHosts.flatMap((m) => ["--map-host", m]),
    "--ignore-https-errors",
    "--block-unmapped",
    "--inventory",
    inventory,
    "--out",
    out,
    ...extra,
  ];

  before(async () => {
    app = await startTestApp();
    dir = await mkdtemp(path.join(tmpdir(), "blastradius-scan-test-"));
    seedFile = path.join(dir, "seed.yaml");
    const { password: _, ...identity } = TEST_IDENTITY;
    await writeFile(
      seedFile,
      Object.entries(identity)
        .map(([k, v]) => `${k}: "${v}"`)
        .join("\n"),
    );
  });
  after(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("finds every seeded leak with its vendor, category and chain, and exits 3 on an undeclared flow", async () => {
    const inventory = path.join(dir, "partial.yaml");
    await writeFile(
      inventory,
      `vendors:
  - name: Mixpanel
    data: [{ category: user.contact.email, surface: web }, { category: user.unique_id }]
  - name: Sentry
    catalogue: sentry
    data: [{ category: user }]
  - name: Hotjar
    data: [{ category: user.behavior }]
`,
    );
    const out = path.join(dir, "scan-1");
    const result = await run(scanArgs(out, inventory, ["--crawl", "1", "--fail-on-undeclared"]));
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stdout, /UNDECLARED {2}PostHog: user\.contact\.email/);

    const findings = JSON.parse(await readFile(path.join(out, "findings.json"), "utf8")) as Finding[];
    const text = (f: Finding) => f.chain.join(" > ");
    const find = (vendorId: string, host: string, field: string, chain: RegExp) =>
      findings.find(
        (f) => f.vendor_id === vendorId && f.host === host && f.seed_field === field && chain.test(text(f)),
      );
    const expect = (vendorId: string, host: string, field: string, chain: RegExp, declared: boolean) => {
      const f = find(vendorId, host, field, chain);
      assert.ok(
        f,
        `no ${vendorId} finding of ${field} at ${host} with a chain like ${chain}; found:\n${findings
          .map((x) => `${x.vendor_id} ${x.host} ${x.seed_field} ${text(x)}`)
          .join("\n")}`,
      );
      assert.equal(f.declared, declared, `${vendorId} ${field} declared`);
      return f;
    };

    const mixpanel = expect(
      "mixpanel",
      "api-js.mixpanel.com",
      "email",
      /^body > form:data > .*json:\[\d+\]\.properties\.email > plain$/,
      true,
    );
    assert.equal(mixpanel.category, "user.contact.email");
    assert.equal(mixpanel.vendor, "Mixpanel");
    assert.equal(mixpanel.first_party_proxy, false);
    const userId = expect(
      "mixpanel",
      "api-js.mixpanel.com",
      "user_id",
      /json:\[\d+\]\.properties\.distinct_id > plain$/,
      true,
    );
    assert.equal(userId.category, "user.unique_id");

    // The second Mixpanel project posts to the app's own /mp path: found by its payload.
    const proxied = expect(
      "mixpanel",
      "127.0.0.1",
      "email",
      /^body > form:data > .*json:\[\d+\]\.properties\.email > plain$/,
      true,
    );
    assert.equal(proxied.first_party_proxy, true);
    assert.match(new URL(proxied.url).pathname, /^\/mp\/track\/$/);

    expect(
      "posthog",
      "us.i.posthog.com",
      "email",
      /json:.*\.?\$?set\.email > plain$|person_properties\.email > plain$/,
      false,
    );
    expect("posthog", "us.i.posthog.com", "name", /name > plain$/, false);
    expect("segment", "api.segment.io", "email", /^body > json:traits\.email > plain$/, false);
    expect("segment", "api.segment.io", "user_id", /^body > json:userId > plain$/, false);
    expect(
      "datadog",
      "browser-intake-datadoghq.com",
      "email",
      /^body > json-lines\[\d+\] > json:usr\.email > plain$/,
      false,
    );
    const sentry = expect(
      "sentry",
      "o4504.ingest.us.sentry.io",
      "email",
      /^body > json-lines\[\d+\] > json:user\.email > plain$/,
      true,
    );
    assert.equal(sentry.method, "POST");
    const pixel = expect(
      "meta",
      "www.facebook.com",
      "email",
      /^query:ud\[em\] > normalised > sha256:hex$/,
      false,
    );
    assert.equal(pixel.method, "GET");
    expect(
      "amplitude",
      "api2.amplitude.com",
      "email",
      /^body > gzip > json:events\[0\]\.user_properties\.email > plain$/,
      false,
    );

    // The app's own API gets the email in its query string: not a finding.
    for (const f of findings.filter((x) => x.host === "127.0.0.1")) {
      assert.equal(f.first_party_proxy, true, `first-party finding ${f.url}`);
      assert.equal(f.vendor_id, "mixpanel");
    }
    assert.ok(!findings.some((f) => f.url.includes("/api/preferences") && f.host === "127.0.0.1"));

    const summary = JSON.parse(await readFile(path.join(out, "summary.json"), "utf8"));
    assert.ok(summary.undeclared_flows > 0);
    assert.ok(summary.pages.length >= 2, "the crawl went past the signed-in page");
    assert.doesNotMatch(summary.user_agent, /Headless/);
    const notSeen = summary.flows.filter((f: { seen: boolean }) => !f.seen);
    assert.deepEqual(
      notSeen.map((f: { vendor: string; category: string }) => `${f.vendor} ${f.category}`),
      ["Hotjar user.behavior"],
    );
    const har = JSON.parse(await readFile(path.join(out, "scan.har"), "utf8"));
    assert.ok(
      har.log.entries.some((e: { request: { url: string } }) => e.request.url.includes("api.segment.io")),
    );
    const markdown = await readFile(path.join(out, "report.md"), "utf8");
    assert.match(markdown, /## Undeclared flows[\s\S]*\| PostHog \| user\.contact\.email \|/);
    assert.match(markdown, /## Declared flows not seen[\s\S]*\| Hotjar \| user\.behavior \|/);
    const html = await readFile(path.join(out, "report.html"), "utf8");
    assert.match(html, /<td class="bad">undeclared<\/td>/);
    // The sinks really received what the scanner reports (it watched, it did not stub).
    assert.ok(app.sink.some((r) => r.host === "api2.amplitude.com" && r.bytes > 0));
    assert.ok(app.proxied.length > 0);
  });

  it("compares with the workspace store's inventory with --store-inventory", async () => {
    const store = { BLASTRADIUS_DATA: path.join(dir, "store") };
    const declared = path.join(dir, "store-vendors.yaml");
    await writeFile(
      declared,
      `vendors:
  - { name: Mixpanel, catalogue: mixpanel, data: [{ category: user, surface: web }] }
  - { name: Segment, catalogue: segment, data: [{ category: user.contact.email, surface: server }] }
`,
    );
    const imported = await run(["vendors", "import", declared], store);
    assert.equal(imported.code, 0, imported.stderr);
    const out = path.join(dir, "scan-store");
    const both = await run([...scanArgs(out, declared, ["--store-inventory"])], store);
    assert.equal(both.code, 2, "--inventory and --store-inventory together");
    const args = scanArgs(out, declared, ["--store-inventory", "--fail-on-undeclared", "--json", "--quiet"]);
    args.splice(args.indexOf("--inventory"), 2);
    const result = await run(args, store);
    assert.equal(result.code, 3, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.inventory, "the workspace store");
    const flow = (vendor: string, category: string) =>
      summary.flows.find(
        (f: { vendor_id: string; category: string }) => f.vendor_id === vendor && f.category === category,
      );
    assert.equal(flow("mixpanel", "user.contact.email")?.declared, true);
    assert.equal(
      flow("segment", "user.contact.email")?.declared,
      false,
      "declared for the server, not the web",
    );
    assert.equal(flow("posthog", "user.contact.email")?.declared, false);
  });

  it("exits 0 with --fail-on-undeclared when the inventory declares every flow", async () => {
    const inventory = path.join(dir, "complete.yaml");
    const everyone = ["Mixpanel", "PostHog", "Segment", "Datadog", "Sentry", "Meta", "Amplitude"];
    await writeFile(
      inventory,
      `vendors:\n${everyone.map((name) => `  - { name: ${name}, catalogue: ${name.toLowerCase()}, data: [{ category: user }] }`).join("\n")}\n`,
    );
    const out = path.join(dir, "scan-2");
    const result = await run(scanArgs(out, inventory, ["--fail-on-undeclared", "--json", "--quiet"]));
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.undeclared_flows, 0);
    assert.ok(summary.findings > 0);
    assert.equal(result.stderr, "", "--quiet prints nothing on stderr");
  });
});
