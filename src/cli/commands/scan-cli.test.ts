import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { loadConfig } from "../../config/env.ts";
import { AppError, exitCodeFor } from "../../lib/errors.ts";
import { tempDir } from "../../lib/test-fixtures.ts";
import { chromiumArgs, reachableHosts } from "../../scan/run-scan.ts";
import { parseMapHost, scanCommand } from "./scan.ts";

const cli = path.resolve(import.meta.dirname, "../../../bin/blastradius.mjs");
const scan = (...args: string[]) => spawnSync(process.execPath, [cli, "scan", ...args], { encoding: "utf8" });

describe("blastradius scan options", () => {
  it("parses --map-host into host resolver rules", () => {
    assert.deepEqual(parseMapHost("API-JS.mixpanel.com=127.0.0.1:8443"), {
      host: "api-js.mixpanel.com",
      target: "127.0.0.1:8443",
    });
    assert.deepEqual(parseMapHost("cdn.test=[::1]:9000"), { host: "cdn.test", target: "[::1]:9000" });
    for (const bad of ["api.test", "api.test=", "api.test=127.0.0.1:99999", "=127.0.0.1:1"]) {
      assert.throws(
        () => parseMapHost(bad),
        (e: unknown) => e instanceof AppError && e.code === "USAGE" && e.message.startsWith("--map-host"),
      );
    }
    const args = chromiumArgs({ mapHosts: [parseMapHost("a.test=127.0.0.1:1")], blockUnmapped: true }, [
      "app.test",
    ]);
    assert.ok(
      args.includes(
        "--host-resolver-rules=MAP a.test 127.0.0.1:1, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1], EXCLUDE app.test",
      ),
    );
    assert.ok(args.includes("--disable-blink-features=AutomationControlled"));
    assert.deepEqual(
      reachableHosts({
        urls: ["https://app.shop.test/login", "https://app.shop.test/x"],
        firstParty: ["api.shop.test"],
      }),
      ["app.shop.test", "api.shop.test", "*.api.shop.test"],
    );
    assert.ok(
      !chromiumArgs({ mapHosts: [], blockUnmapped: false }).some((a) =>
        a.startsWith("--host-resolver-rules"),
      ),
    );
  });

  it("fails with exit code 2 naming the option or file, before starting a browser", async () => {
    const dir = await tempDir("blastradius-scan-cli-");
    const seed = path.join(dir, "seed.yaml");
    await writeFile(seed, "email: dana@example.test\n");
    const cases: [string[], RegExp][] = [
      [["--seed", seed, "--out", dir], /missing required option --url/],
      [["--url", "app.example.com", "--seed", seed, "--out", dir], /--url "app\.example\.com": not a URL/],
      [["--url", "ftp://x.test/", "--seed", seed, "--out", dir], /only http and https/],
      [["--url", "http://127.0.0.1:9/", "--out", dir], /missing required option --seed/],
      [
        ["--url", "http://127.0.0.1:9/", "--seed", seed, "--out", dir, "--crawl", "many"],
        /--crawl must be a whole number/,
      ],
      [
        ["--url", "http://127.0.0.1:9/", "--seed", path.join(dir, "nope.yaml"), "--out", dir],
        /--seed .*nope\.yaml: cannot read/,
      ],
      [
        ["--url", "http://127.0.0.1:9/", "--seed", seed, "--out", dir, "--inventory", seed],
        /seed\.yaml: name: required/,
      ],
      [
        ["--url", "http://127.0.0.1:9/", "--seed", seed, "--out", dir, "--steps", seed],
        /--steps .*seed\.yaml: cannot load/,
      ],
    ];
    // A missing Chromium would fail with exit 1: these must fail before the browser is needed.
    const config = { ...loadConfig({}), chromiumPath: path.join(dir, "no-chromium") };
    for (const [args, message] of cases) {
      await assert.rejects(scanCommand.run(args, config), (e: unknown) => {
        assert.equal(exitCodeFor(e), 2, `${args.join(" ")}: ${(e as Error).message}`);
        assert.match((e as Error).message, message);
        return true;
      });
    }
  });

  it("documents every option in --help", () => {
    const r = scan("--help");
    assert.equal(r.status, 0);
    for (const option of [
      "--url",
      "--seed",
      "--steps",
      "--crawl",
      "--map-host",
      "--ignore-https-errors",
      "--block-unmapped",
      "--inventory",
      "--out",
      "--fail-on-undeclared",
    ]) {
      assert.match(r.stdout, new RegExp(`\\n  ${option}\\b`));
    }
  });
});
