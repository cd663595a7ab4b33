import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { openContext } from "../app/open-context.ts";
import { systemActor } from "../auth/roles.ts";
import { loadConfig } from "../config/env.ts";
import { datasetPath, uploadDataset } from "../datasets/manage-datasets.ts";
import { ANALYSIS_JOB, analysisJobHandler, getRun, startAnalysis } from "../impact/incident-analysis.ts";
import { startWorker } from "../jobs/run-worker.ts";
import { AppError } from "../lib/errors.ts";
import { event, identities, jsonl, tempDir } from "../lib/test-fixtures.ts";
import { approveCampaign } from "../notify/campaigns.ts";
import { createIncidentCampaign } from "../notify/incident-campaign.ts";
import { sendCampaign } from "../notify/send-campaign.ts";
import { outboxTransport } from "../notify/transports.ts";
import { addTimelineEntry, createIncident, listTimeline } from "./manage-incidents.ts";
import { formatBytes, plural } from "./record-system-entry.ts";

const EVENTS = jsonl(
  event({ distinct_id: "u1", $email: "alice@example.com", $city: "Berlin" }),
  event({ distinct_id: "u3", $os: "Linux" }),
);

describe("system timeline entries (PGlite)", { timeout: 120_000 }, () => {
  let ctx: Awaited<ReturnType<typeof openContext>>;
  const runJobs = async () => {
    const worker = startWorker({
      db: ctx.db,
      handlers: { [ANALYSIS_JOB]: analysisJobHandler(ctx) },
      pollMs: 20,
      log: () => {},
    });
    await worker.idle();
    await worker.stop();
  };
  const system = async (incidentId: string) =>
    (await listTimeline(ctx, systemActor, incidentId))
      .filter((e) => e.kind === "system")
      .map((e) => {
        assert.equal(e.author, "system");
        return e.body;
      });

  before(async () => {
    const dir = await tempDir("blastradius-system-entries-");
    ctx = await openContext(
      loadConfig({
        BLASTRADIUS_DATA: dir,
        BLASTRADIUS_IDENTITIES: await identities(dir),
        BLASTRADIUS_MEMORY_LIMIT: "1GB",
        BLASTRADIUS_THREADS: "2",
      }),
    );
  });
  after(async () => ctx?.close());

  it("records a dataset's arrival, the analysis and a campaign's end, each once", async () => {
    const incident = await createIncident(ctx, systemActor, { title: "vendor breach" });
    const dataset = await uploadDataset(ctx, systemActor, incident.id, {
      fileName: "export.jsonl",
      content: Readable.from([EVENTS]),
    });
    assert.deepEqual(await system(incident.id), [`Dataset received: export.jsonl, ${dataset.bytes} bytes`]);

    const run = await startAnalysis(ctx, systemActor, incident.id);
    await runJobs();
    assert.equal((await getRun(ctx, systemActor, incident.id, run.id)).status, "succeeded");
    assert.deepEqual(await system(incident.id), [
      `Dataset received: export.jsonl, ${dataset.bytes} bytes`,
      "Analysis done: 2 people, 2 organisations affected",
    ]);

    await createIncidentCampaign(ctx, systemActor, incident.id, {
      id: "users-1",
      audience: "users",
      from: "security@example.com",
    });
    await approveCampaign(
      ctx,
      { kind: "user", userId: "b", role: "responder", label: "user:second" },
      "users-1",
    );
    const send = () =>
      sendCampaign(
        ctx,
        systemActor,
        "users-1",
        outboxTransport(),
        { dkim: null },
        { concurrency: 2, domainConcurrency: 2, rate: null, maxAttempts: 1, retryDelayMs: 10, threads: 0 },
      );
    assert.equal((await send()).counts.sent, 2);
    await send(); // a second run finds nothing owed: the campaign finished once
    const entries = await system(incident.id);
    assert.deepEqual(entries.slice(2), [
      "Campaign users-1 finished sending to users: 2 sent, 0 failed, 0 bounced, 0 suppressed",
    ]);
    assert.ok(!entries.join("\n").includes("alice"), "no personal data in the entries");
  });

  it("records an analysis that fails for good, without its error", async () => {
    const incident = await createIncident(ctx, systemActor, { title: "failing analysis" });
    const dataset = await uploadDataset(ctx, systemActor, incident.id, {
      fileName: "export.jsonl",
      content: Readable.from([EVENTS]),
    });
    const run = await startAnalysis(ctx, systemActor, incident.id);
    // One try only, and the sealed file gone: the job fails for good on its first attempt.
    await ctx.db.query("UPDATE jobs SET max_attempts = 1 WHERE id = $1::bigint", [run.job?.id]);
    await rm(datasetPath(ctx.config.dataDir, incident.id, dataset.id));
    await runJobs();
    const failed = await getRun(ctx, systemActor, incident.id, run.id);
    assert.equal(failed.status, "failed");
    assert.ok(failed.job?.error);
    const entries = await system(incident.id);
    assert.deepEqual(entries.slice(1), [
      `Analysis failed after 1 attempt (run ${run.id}); the error is on the run`,
    ]);
    assert.ok(!entries.join("\n").includes(path.basename(ctx.config.dataDir)));
  });

  it("keeps the kind system for the system", async () => {
    const incident = await createIncident(ctx, systemActor, { title: "notes" });
    await assert.rejects(
      addTimelineEntry(ctx, systemActor, incident.id, { kind: "system", body: "pretending" }),
      (e: unknown) =>
        e instanceof AppError && e.code === "BAD_INPUT" && /kind: system is kept/.test(e.message),
    );
  });
});

describe("entry wording", () => {
  it("writes sizes in decimal units and counts in words", () => {
    assert.deepEqual([0, 1, 999, 1000, 1234, 999_499, 999_999, 1_200_000, 20e9].map(formatBytes), [
      "0 bytes",
      "1 byte",
      "999 bytes",
      "1.0 KB",
      "1.2 KB",
      "999 KB",
      "1.0 MB",
      "1.2 MB",
      "20.0 GB",
    ]);
    assert.equal(plural(1, "person", "people"), "1 person");
    assert.equal(plural(12_345, "person", "people"), "12,345 people");
  });
});
