import { mkdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { badInput } from "../lib/errors.ts";
import { type DeclaredVendor, loadVendorFile } from "../vendors/vendor-file.ts";
import { type Finding, findExposures } from "./find-exposures.ts";
import { loadSeed } from "./load-seed.ts";
import { buildNeedles } from "./match-seeds.ts";
import { captureSite, type MapHost, type PageVisit, type ScanSteps } from "./run-scan.ts";
import { loadVendorCatalogue } from "./vendor-catalogue.ts";
import { type ScanSummary, writeScanReport } from "./write-scan-report.ts";

export type ScanSiteInput = Readonly<{
  urls: readonly string[];
  seedFile: string;
  stepsFile?: string;
  crawl: number;
  mapHosts: readonly MapHost[];
  ignoreHttpsErrors: boolean;
  blockUnmapped: boolean;
  firstParty: readonly string[];
  inventoryFile?: string;
  /** The inventory itself (the workspace store's), instead of a file. */
  inventory?: readonly DeclaredVendor[];
  /** What the report names as the inventory when it is not a file. */
  inventoryLabel?: string;
  catalogueFile?: string;
  outDir: string;
  settleMs: number;
  navigationTimeoutMs: number;
  executablePath: string;
  onPage?: (visit: PageVisit, index: number) => void;
}>;

export type ScanResult = { summary: ScanSummary; findings: Finding[]; outDir: string };

async function loadSteps(file: string): Promise<ScanSteps> {
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(path.resolve(file)).href);
  } catch (error) {
    throw badInput(`--steps ${file}: cannot load the module: ${(error as Error).message.split("\n")[0]}`);
  }
  if (typeof mod.default !== "function") {
    throw badInput(
      `--steps ${file}: the module must export a default async function ({ page, context, seed, url })`,
    );
  }
  return mod.default as ScanSteps;
}

/** Scans the app in a real browser and writes findings.json, summary.json, scan.har and the reports. */
export async function scanSite(input: ScanSiteInput): Promise<ScanResult> {
  // Read every input before starting a browser, so a typo fails at once.
  const [seed, catalogue, inventory, steps] = await Promise.all([
    loadSeed(input.seedFile),
    loadVendorCatalogue(input.catalogueFile),
    input.inventoryFile ? loadVendorFile(input.inventoryFile) : Promise.resolve(input.inventory ?? []),
    input.stepsFile ? loadSteps(input.stepsFile) : Promise.resolve(undefined),
  ]);
  const needles = buildNeedles(seed.values);
  await mkdir(input.outDir, { recursive: true });
  const scannedAt = new Date().toISOString();
  const capture = await captureSite({
    urls: input.urls,
    seed: seed.identity,
    ...(steps ? { steps } : {}),
    crawl: input.crawl,
    mapHosts: input.mapHosts,
    ignoreHttpsErrors: input.ignoreHttpsErrors,
    blockUnmapped: input.blockUnmapped,
    firstParty: input.firstParty,
    harPath: path.join(input.outDir, "scan.har"),
    executablePath: input.executablePath,
    settleMs: input.settleMs,
    navigationTimeoutMs: input.navigationTimeoutMs,
    ...(input.onPage ? { onPage: input.onPage } : {}),
  });
  const exposures = findExposures(capture.requests, { needles, catalogue, inventory });
  const summary: ScanSummary = {
    scanned_at: scannedAt,
    urls: [...input.urls],
    pages: capture.pages,
    requests: capture.requests.length,
    third_party_requests: capture.requests.filter((r) => r.thirdParty).length,
    findings: exposures.findings.length,
    undeclared_flows: exposures.flows.filter((f) => f.seen && !f.declared).length,
    declared_not_seen: exposures.flows.filter((f) => !f.seen).length,
    flows: exposures.flows,
    third_party_hosts: exposures.third_party_hosts,
    skipped_seed_fields: needles.skipped.map((s) => s.field),
    truncated_requests: exposures.truncated,
    user_agent: capture.userAgent,
    inventory: input.inventoryFile ?? input.inventoryLabel ?? null,
  };
  await writeScanReport(input.outDir, summary, exposures.findings);
  return { summary, findings: exposures.findings, outDir: input.outDir };
}
