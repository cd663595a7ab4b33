import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openContext } from "../src/app/open-context.ts";
import { cliActor } from "../src/auth/roles.ts";
import { loadConfig } from "../src/config/env.ts";
import { openAnalysisCampaign } from "../src/notify/analysis-campaign.ts";
import { noticeSettings } from "../src/notify/notice-settings.ts";
import { renderThreads, sendCampaign } from "../src/notify/send-campaign.ts";
import { smtpTransport } from "../src/notify/transports.ts";

/**
 * npm run bench:notify [-- --recipients N --concurrency N --threads N --only unsigned|signed --strict]
 *
 * Renders and sends N recipients' notices (default 100,000) to a real SMTP server running in its own
 * process on loopback, with every outcome committed to the delivery ledger in the store (the
 * embedded PGlite unless DATABASE_URL is set), once unsigned and once signed with RSA-2048 DKIM.
 * Prints messages per second for the send phase (the ledger is written before it, timed apart) and
 * the sender's resident memory sampled through the run. Targets: 1,000/s unsigned, 600/s signed.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const TARGET_UNSIGNED = 1000;
const TARGET_SIGNED = 600;

const { values: o } = parseArgs({
  options: {
    recipients: { type: "string", default: "100000" },
    concurrency: { type: "string", default: "10" },
    threads: { type: "string" },
    strict: { type: "boolean", default: false },
    only: { type: "string" },
  },
});
const N = Number(o.recipients);
const concurrency = Number(o.concurrency);
// the CLI's default: every core but one, every core when signing
const threadsFor = (signed: boolean) =>
  o.threads === undefined ? renderThreads(os.availableParallelism(), signed) : Number(o.threads);
if (!Number.isSafeInteger(N) || N < 1) throw new Error("--recipients must be a whole number");

const LANGS = ["en", "de", "fr", "es", "pt-BR", "it"] as const;
const CATS = [
  "user.contact.email",
  "user.name",
  "user.location.coarse",
  "user.device",
  "user.behavior.browsing_history",
  "user.unique_id",
];

async function makeAnalysis(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const lines = ["person_key,user_id,email,name,country,language,categories,matched_by,records,org_ids"];
  for (let i = 0; i < N; i++) {
    const n = String(i).padStart(7, "0");
    const cats = CATS.slice(0, 2 + (i % 5))
      .sort()
      .join(";");
    lines.push(
      `user:u${n},u${n},user${n}@d${i % 50}.example.org,User ${n},DE,${LANGS[i % LANGS.length]},${cats},user_id,3,`,
    );
  }
  await writeFile(path.join(dir, "people.csv"), `${lines.join("\n")}\n`);
  await writeFile(
    path.join(dir, "summary.json"),
    JSON.stringify({ by_category: Object.fromEntries(CATS.map((c) => [c, N])) }),
  );
}

function startPeer(): Promise<{ child: ChildProcess; port: number; stop: () => Promise<number> }> {
  const child = spawn(process.execPath, [path.join(here, "smtp-peer.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  let listening = false;
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the SMTP peer exited (${code})`)));
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /port (\d+)/.exec(out);
      if (m && !listening) {
        listening = true;
        child.removeAllListeners("exit");
        resolve({
          child,
          port: Number(m[1]),
          stop: () =>
            new Promise<number>((done) => {
              child.once("exit", () => done(Number(/received (\d+)/.exec(out)?.[1] ?? -1)));
              child.kill("SIGTERM");
            }),
        });
      }
    });
  });
}

type Figures = {
  label: string;
  loadS: number;
  sendS: number;
  perSecond: number;
  rssMiB: number[];
  received: number;
};

async function runOnce(label: string, signed: boolean, analysis: string, work: string): Promise<Figures> {
  const data = path.join(work, `store-${label}`);
  const config = loadConfig({ ...process.env, BLASTRADIUS_DATA: data });
  const ctx = await openContext(config);
  const peer = await startPeer();
  const transport = smtpTransport(`smtp://127.0.0.1:${peer.port}`, { connections: concurrency });
  const rss: number[] = [];
  try {
    const from = "Example Security <security@example.com>";
    const settings = {
      ...noticeSettings({
        from,
        notice: {
          vendor: "Analytics Co",
          company: "Example Inc.",
          incident_start: "2025-11-08",
          discovered_at: "2025-11-09",
        },
        exposed: CATS,
      }),
      from,
      replyTo: null,
    };
    let t0 = performance.now();
    await openAnalysisCampaign(ctx, cliActor, {
      id: `bench-${label}`,
      dir: analysis,
      audience: "users",
      filter: {},
      settings,
    });
    const loadS = (performance.now() - t0) / 1000;
    const dkim = signed
      ? {
          domain: "example.com",
          selector: "bench",
          privateKey: generateKeyPairSync("rsa", { modulusLength: 2048 })
            .privateKey.export({ type: "pkcs8", format: "pem" })
            .toString(),
        }
      : null;
    const sampler = setInterval(() => rss.push(Math.round(process.memoryUsage().rss / 2 ** 20)), 1000);
    t0 = performance.now();
    const report = await sendCampaign(
      ctx,
      cliActor,
      `bench-${label}`,
      transport,
      { dkim },
      {
        concurrency,
        domainConcurrency: concurrency,
        rate: null,
        maxAttempts: 5,
        retryDelayMs: 1000,
        threads: threadsFor(signed),
        onProgress: (c) => process.stderr.write(`\r${label}: ${c.total - c.pending}/${c.total}   `),
        progressMs: 2000,
      },
    );
    const sendS = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    process.stderr.write("\n");
    if (report.counts.sent !== N) throw new Error(`${label}: ${report.counts.sent} of ${N} sent`);
    await transport.close();
    const received = await peer.stop();
    return { label, loadS, sendS, perSecond: N / sendS, rssMiB: rss, received };
  } finally {
    await transport.close();
    peer.child.kill("SIGKILL");
    await ctx.close();
  }
}

const work = await mkdtemp(path.join(os.tmpdir(), "blastradius-bench-notify-"));
try {
  const analysis = path.join(work, "analysis");
  await makeAnalysis(analysis);
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  process.stdout.write(
    `machine: ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory, ${cpu}, Node ${process.version}\n`,
  );
  process.stdout.write(
    `store: ${process.env.DATABASE_URL ? "PostgreSQL" : "PGlite (embedded)"}; recipients ${N}; concurrency ${concurrency}; render threads ${threadsFor(false)} unsigned, ${threadsFor(true)} signed\n`,
  );
  let ok = true;
  for (const [label, signed, target] of [
    ["unsigned", false, TARGET_UNSIGNED],
    ["signed", true, TARGET_SIGNED],
  ] as const) {
    if (o.only && o.only !== label) continue;
    const f = await runOnce(label, signed, analysis, work);
    const q = (p: number) => f.rssMiB[Math.min(f.rssMiB.length - 1, Math.floor(p * f.rssMiB.length))] ?? 0;
    const pass = f.perSecond >= target && f.received === N;
    ok &&= pass;
    process.stdout.write(
      `${label}: ${f.perSecond.toFixed(0)} messages/s (target ${target}) ${pass ? "PASS" : "FAIL"}; send ${f.sendS.toFixed(1)} s; ledger written in ${f.loadS.toFixed(1)} s; peer received ${f.received}; sender RSS MiB at 10/50/90/100%: ${q(0.1)}/${q(0.5)}/${q(0.9)}/${q(1)} (max ${Math.max(...f.rssMiB)})\n`,
    );
  }
  if (o.strict && !ok) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
