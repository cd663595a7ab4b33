import { createReadStream } from "node:fs";
import { cp, mkdtemp, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Context } from "../app/context.ts";
import { systemActor } from "../auth/roles.ts";
import { uploadDataset } from "../datasets/manage-datasets.ts";
import { type AnalysisRun, startAnalysis } from "../impact/incident-analysis.ts";
import { addTimelineEntry, createIncident } from "../incidents/manage-incidents.ts";
import { createVendor } from "../vendors/manage-vendors.ts";
import { generateDemoIncident } from "./generate-demo-incident.ts";

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/**
 * On a new store, a demo incident shows the whole flow: a vendor, an incident with its clocks, the
 * vendor's export uploaded (sealed) and an analysis queued. It runs only when the store has no
 * incident yet and no identity store is configured, so a real deployment never gets demo data.
 */
export async function seedDemoIfEmpty(
  ctx: Context,
): Promise<{ incidentId: string; run: AnalysisRun } | null> {
  const n = await ctx.db.query<{ n: number }>("SELECT count(*)::int AS n FROM incidents");
  if ((n.rows[0]?.n ?? 0) > 0 || (await exists(ctx.config.identitiesDir))) return null;
  const work = await mkdtemp(path.join(ctx.config.tempDir, "blastradius-demo-"));
  try {
    const demo = await generateDemoIncident({ outDir: work, users: 2000, orgs: 200, events: 20000, seed: 1 });
    await cp(demo.identitiesDir, ctx.config.identitiesDir, { recursive: true });
    const vendor = await createVendor(ctx, systemActor, {
      name: "Product analytics vendor (demo)",
      website: "https://analytics.example",
      risk_tier: "high",
      notes:
        "Receives page views and profiles from the web app: name, email, approximate location, OS and browser.",
    });
    const day = 86400_000;
    const now = Date.now();
    const incident = await createIncident(ctx, systemActor, {
      title: "Demo: analytics vendor breach",
      description:
        "The vendor reports that an attacker exported a dataset of our users' analytics profiles and events. Synthetic data.",
      vendor_id: vendor.id,
      status: "assessing",
      controller_country: "US",
      clocks: {
        vendor_detected: new Date(now - 16 * day).toISOString(),
        vendor_notified: new Date(now - 2 * day).toISOString(),
        aware: new Date(now - 2 * day + 3600_000).toISOString(),
      },
    });
    await addTimelineEntry(ctx, systemActor, incident.id, {
      kind: "notice",
      body: "Vendor's security team emailed: unauthorised export of analytics data; dataset to follow.",
      at: new Date(now - 2 * day).toISOString(),
    });
    for (const file of demo.datasets) {
      await uploadDataset(ctx, systemActor, incident.id, {
        fileName: path.basename(file),
        content: createReadStream(file),
      });
    }
    const run = await startAnalysis(ctx, systemActor, incident.id);
    return { incidentId: incident.id, run };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
