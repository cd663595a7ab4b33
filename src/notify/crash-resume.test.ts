import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type SmtpPeer, startSmtpPeer } from "./test-smtp-peer.ts";

/**
 * The crash guarantee, end to end: `notify send` runs as a child process on the embedded store and is
 * killed with SIGKILL at five random moments of a 5,000-recipient campaign, then run again until it
 * finishes. Every recipient must get the message; every copy of a message must carry its one
 * Message-ID; and no crash may cause more duplicates than the configured concurrency.
 */

const BIN = fileURLToPath(new URL("../../bin/blastradius.mjs", import.meta.url));
const RECIPIENTS = 5000;
const CONCURRENCY = 8;
const CRASHES = 5;

async function analysisFolder(dir: string): Promise<void> {
  const lines = ["person_key,user_id,email,name,country,language,categories,matched_by,records,org_ids"];
  for (let i = 0; i < RECIPIENTS; i++) {
    const n = String(i).padStart(5, "0");
    lines.push(
      `user:u${n},u${n},user${n}@d${i % 7}.example.org,User ${n},${i % 2 ? "DE" : "FR"},${i % 2 ? "de" : "fr"},user.contact.email;user.name,user_id,1,`,
    );
  }
  await writeFile(path.join(dir, "people.csv"), `${lines.join("\n")}\n`);
  await writeFile(
    path.join(dir, "summary.json"),
    JSON.stringify({ by_category: { "user.contact.email": RECIPIENTS, "user.name": RECIPIENTS } }),
  );
}

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }>;
} {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }>(
    (resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stderr, stdout })),
  );
  return { child, done };
}

describe("notify send after SIGKILL", () => {
  let work: string;
  let peer: SmtpPeer;
  // which run (0 = first) received each copy of each message
  const copies = new Map<string, { run: number; messageId: string | null }[]>();
  let currentRun = 0;
  let onDelivered: (() => void) | null = null;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "blastradius-crash-"));
    peer = await startSmtpPeer({
      keepRaw: false,
      onMessage: (m) => {
        const to = m.rcpt[0] ?? "";
        const list = copies.get(to) ?? [];
        list.push({ run: currentRun, messageId: m.messageId });
        copies.set(to, list);
        onDelivered?.();
      },
    });
  });
  after(async () => {
    await peer?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("delivers to everyone, with same-Message-ID duplicates bounded by the concurrency", {
    timeout: 300_000,
  }, async (t) => {
    const analysis = path.join(work, "analysis");
    await import("node:fs/promises").then((fs) => fs.mkdir(analysis));
    await analysisFolder(analysis);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BLASTRADIUS_DATA: path.join(work, "store"),
      BLASTRADIUS_THREADS: "2",
    };
    delete env.DATABASE_URL;
    const args = [
      "notify",
      "send",
      "--analysis",
      analysis,
      "--audience",
      "users",
      "--campaign",
      "crash-test",
      "--from",
      "Example Security <security@example.com>",
      "--smtp",
      peer.url,
      "--concurrency",
      String(CONCURRENCY),
      "--quiet",
      "--retry-delay",
      "0.05",
    ];
    // five kill points at random counts of delivered messages, spread over the campaign
    const points = Array.from({ length: CRASHES }, (_, k) =>
      Math.floor(((k + 0.2 + Math.random() * 0.6) * RECIPIENTS) / (CRASHES + 1)),
    );
    for (const point of points) {
      const { child, done } = run(args, env);
      await new Promise<void>((resolve) => {
        onDelivered = () => {
          if (peer.delivered().length >= point) {
            onDelivered = null;
            child.kill("SIGKILL");
            resolve();
          }
        };
        done.then((r) => {
          if (onDelivered) {
            onDelivered = null;
            assert.fail(`the sender ended before the kill point ${point}: ${JSON.stringify(r)}`);
          }
        });
      });
      const r = await done;
      assert.equal(r.signal, "SIGKILL");
      currentRun++;
    }
    const last = await run(args, env).done;
    assert.equal(last.code, 0, last.stderr);

    const status = await run(["notify", "status", "--campaign", "crash-test", "--json"], env).done;
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout), {
      total: RECIPIENTS,
      sent: RECIPIENTS,
      failed: 0,
      bounced: 0,
      suppressed: 0,
      pending: 0,
    });

    assert.equal(copies.size, RECIPIENTS, "every recipient received the message");
    const duplicatesByCrash = new Array<number>(CRASHES).fill(0);
    for (const [to, list] of copies) {
      const ids = new Set(list.map((c) => c.messageId));
      assert.equal(ids.size, 1, `every copy to ${to} carries the same Message-ID`);
      assert.ok(list[0]?.messageId?.startsWith("<crash-test."), "the campaign's Message-ID");
      // each further copy was caused by the crash that ended the run holding the copy before it
      for (let j = 1; j < list.length; j++) {
        const before = list[j - 1]?.run ?? 0;
        assert.ok((list[j]?.run ?? 0) > before, `${to} got two copies within one run`);
        duplicatesByCrash[before] = (duplicatesByCrash[before] ?? 0) + 1;
      }
    }
    t.diagnostic(`kill points ${points.join(", ")}; duplicates per crash ${duplicatesByCrash.join(", ")}`);
    for (const [k, n] of duplicatesByCrash.entries()) {
      assert.ok(
        n <= CONCURRENCY,
        `crash ${k + 1} caused ${n} duplicates; at most ${CONCURRENCY} were in flight`,
      );
    }
    const distinctIds = new Set([...copies.values()].map((l) => l[0]?.messageId));
    assert.equal(distinctIds.size, RECIPIENTS, "Message-IDs are distinct per recipient");
  });
});
