import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";
import { siteOf } from "../scan/site.ts";
import type { Queryable } from "../store/db.ts";
import { readVendor, refreshRisk } from "./vendor-store.ts";

/**
 * Scanner results (blastradius scan --out DIR) attached to the inventory. A scan's summary is kept
 * (its start URLs, when, the flows it saw and the third-party hosts it met), never the HAR or the
 * findings' request URLs. Each flow it saw is matched to an inventory vendor, by the catalogue id,
 * the name (case-insensitive) or one of the vendor's domains; a declared flow that covers it (same
 * category or a parent, on the web or on every surface) is marked seen, otherwise the flow is added
 * as undeclared on the web. Vendors the scan met that the inventory lacks are reported, not created.
 */

const scanFlow = z.looseObject({
  vendor: z.string().max(300),
  vendor_id: z.string().max(300),
  category: z.string().max(200),
  declared: z.boolean().optional(),
  seen: z.boolean(),
  seed_fields: z.array(z.string().max(200)).max(200).optional(),
});
const scanHost = z.looseObject({
  host: z.string().max(300),
  vendor: z.string().max(300).nullable(),
  vendor_id: z.string().max(300).nullable(),
  requests: z.number().int().min(0).optional(),
  failed: z.number().int().min(0).optional(),
});
const scanFinding = z.looseObject({
  vendor_id: z.string().max(300),
  host: z.string().max(300),
  first_party_proxy: z.boolean().optional(),
});

/** summary.json as the scanner writes it, plus (optionally) findings.json's list as `findings`. */
export const scanUpload = z.looseObject({
  scanned_at: z.iso.datetime({ offset: true, message: "an ISO-8601 time such as 2026-03-01T10:00:00Z" }),
  urls: z.array(z.string().max(2000)).min(1).max(1000),
  flows: z.array(scanFlow).max(100_000),
  third_party_hosts: z.array(scanHost).max(100_000),
  requests: z.number().optional(),
  third_party_requests: z.number().optional(),
  findings: z.union([z.number(), z.array(scanFinding).max(100_000)]).optional(),
});
export type ScanUpload = z.input<typeof scanUpload>;

type ScanFlow = Pick<z.infer<typeof scanFlow>, "vendor" | "vendor_id" | "category" | "seen"> & {
  declared?: boolean;
  seed_fields?: string[];
};
type ScanHost = Pick<z.infer<typeof scanHost>, "host" | "vendor" | "vendor_id"> & {
  requests?: number;
  failed?: number;
};

/** What is stored of a scan (vendor_scans.summary): no page URLs, no request URLs, no HAR. */
export type StoredScanSummary = {
  scanned_at: string;
  urls: string[];
  flows: ScanFlow[];
  third_party_hosts: ScanHost[];
  requests: number | null;
  third_party_requests: number | null;
};

type InventoryVendor = { id: string; name: string; catalogue_id: string | null; domains: readonly string[] };

const onDomain = (host: string, domains: readonly string[]) =>
  domains.some((d) => host === d || host.endsWith(`.${d}`));

/** The hosts the scan saw a vendor id on: its third-party hosts, third-party findings, or its `site:` id. */
function hostsOf(vendorId: string, hosts: readonly ScanHost[], extra: ReadonlyMap<string, Set<string>>) {
  const out = new Set(extra.get(vendorId) ?? []);
  for (const h of hosts) if (h.vendor_id === vendorId) out.add(h.host.toLowerCase());
  if (vendorId.startsWith("site:")) out.add(vendorId.slice(5).toLowerCase());
  return [...out];
}

/** Whether a scanned vendor (a flow's or a host's) is this inventory vendor. */
function isVendor(
  v: Omit<InventoryVendor, "id">,
  seen: { vendor: string | null; vendor_id: string | null },
  hosts: readonly string[],
) {
  const name = v.name.toLowerCase();
  const id = seen.vendor_id?.toLowerCase() ?? null;
  return (
    (v.catalogue_id !== null && id !== null && v.catalogue_id.toLowerCase() === id) ||
    (seen.vendor !== null && seen.vendor.toLowerCase() === name) ||
    id === name ||
    hosts.some((h) => onDomain(h, v.domains))
  );
}

/**
 * Whether the scan met the vendor at all: a third-party host or a seen flow that belongs to it (by
 * catalogue id, name or domain). Offboarding asks this of a scan attached after offboarding started,
 * to verify the integration is gone.
 */
export function scanSeesVendor(
  summary: Pick<StoredScanSummary, "flows" | "third_party_hosts">,
  vendor: Omit<InventoryVendor, "id">,
): boolean {
  const hosts = summary.third_party_hosts ?? [];
  if (hosts.some((h) => isVendor(vendor, h, [h.host.toLowerCase()]))) return true;
  return (summary.flows ?? []).some(
    (f) => f.seen && isVendor(vendor, f, hostsOf(f.vendor_id, hosts, new Map())),
  );
}

export type UnknownVendor = { vendor: string; vendor_id: string; hosts: string[]; categories: string[] };
export type AttachResult = {
  scan: { id: string; scanned_at: string; urls: string[] };
  /** inventory vendors the scan met, with the flows it marked */
  vendors: Array<{ id: string; name: string; seen: number; undeclared: number }>;
  /** vendors the scan met that are not in the inventory (nothing is created for them) */
  unknown_vendors: UnknownVendor[];
};

/** The upload checked, or BAD_INPUT naming the field (and the file, when given). */
export function checkScanUpload(
  body: unknown,
  source = "scan",
): { summary: StoredScanSummary; findingHosts: Map<string, Set<string>> } {
  const r = scanUpload.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0] as z.core.$ZodIssue;
    const what = issue.code === "invalid_type" && issue.input === undefined ? "required" : issue.message;
    throw badInput(`${source}: ${issue.path.join(".") || "(top level)"}: ${what}`);
  }
  const s = r.data;
  const findingHosts = new Map<string, Set<string>>();
  for (const f of Array.isArray(s.findings) ? s.findings : []) {
    if (f.first_party_proxy) continue;
    findingHosts.set(f.vendor_id, (findingHosts.get(f.vendor_id) ?? new Set()).add(f.host.toLowerCase()));
  }
  return {
    summary: {
      scanned_at: new Date(s.scanned_at).toISOString(),
      urls: s.urls,
      flows: s.flows.map((f) => ({
        vendor: f.vendor,
        vendor_id: f.vendor_id,
        category: f.category,
        declared: f.declared ?? false,
        seen: f.seen,
        seed_fields: f.seed_fields ?? [],
      })),
      third_party_hosts: s.third_party_hosts.map((h) => ({
        host: h.host.toLowerCase(),
        vendor: h.vendor,
        vendor_id: h.vendor_id,
        requests: h.requests ?? 0,
        failed: h.failed ?? 0,
      })),
      requests: s.requests ?? null,
      third_party_requests: s.third_party_requests ?? null,
    },
    findingHosts,
  };
}

/** A scan's --out folder as an upload: summary.json, and findings.json when it is there. */
export async function loadScanDir(dir: string): Promise<ScanUpload> {
  const read = async (name: string, required: boolean): Promise<unknown> => {
    const file = path.join(dir, name);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!required && code === "ENOENT") return undefined;
      throw badInput(
        `${file}: cannot read (${code ?? (error as Error).message}); give the folder a scan wrote with --out`,
      );
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw badInput(`${file}: not valid JSON: ${(error as Error).message}`);
    }
  };
  const summary = await read("summary.json", true);
  const findings = await read("findings.json", false);
  if (summary === null || typeof summary !== "object" || Array.isArray(summary)) {
    throw badInput(`${path.join(dir, "summary.json")}: expected an object`);
  }
  return { ...(summary as ScanUpload), ...(Array.isArray(findings) ? { findings } : {}) };
}

const covers = (declared: string, seen: string) => seen === declared || seen.startsWith(`${declared}.`);

async function markFlows(
  tx: Queryable,
  scanId: string,
  summary: StoredScanSummary,
  findingHosts: ReadonlyMap<string, Set<string>>,
): Promise<Omit<AttachResult, "scan">> {
  const inventory = (
    await tx.query<InventoryVendor>(
      "SELECT id, name, catalogue_id, domains FROM vendors ORDER BY lower(name), id",
    )
  ).rows;
  const declared = (
    await tx.query<{ id: string; vendor_id: string; category: string; surface: string | null }>(
      "SELECT id, vendor_id, category, surface FROM vendor_flows WHERE declared",
    )
  ).rows;
  // Catalogue id first, then name, then domain: the most specific evidence decides.
  const vendorFor = (seen: { vendor: string | null; vendor_id: string | null }, hosts: readonly string[]) =>
    inventory.find((v) => isVendor({ ...v, domains: [] }, seen, [])) ??
    inventory.find((v) => isVendor(v, { vendor: null, vendor_id: null }, hosts));

  const met = new Map<string, { id: string; name: string; seen: number; undeclared: number }>();
  const unknown = new Map<string, UnknownVendor>();
  const meet = (v: InventoryVendor) => {
    const entry = met.get(v.id) ?? { id: v.id, name: v.name, seen: 0, undeclared: 0 };
    met.set(v.id, entry);
    return entry;
  };
  const notInInventory = (vendor: string, vendorId: string, hosts: readonly string[], category?: string) => {
    const entry = unknown.get(vendorId) ?? { vendor, vendor_id: vendorId, hosts: [], categories: [] };
    for (const h of hosts) if (!entry.hosts.includes(h)) entry.hosts.push(h);
    if (category && !entry.categories.includes(category)) entry.categories.push(category);
    unknown.set(vendorId, entry);
  };
  const at = summary.scanned_at;

  for (const h of summary.third_party_hosts) {
    const v = vendorFor(h, [h.host]);
    if (v) meet(v);
    else {
      const id = h.vendor_id ?? `site:${siteOf(h.host)}`;
      notInInventory(h.vendor ?? siteOf(h.host), id, [h.host]);
    }
  }
  const touched = new Set<string>();
  for (const f of summary.flows) {
    if (!f.seen) continue;
    const hosts = hostsOf(f.vendor_id, summary.third_party_hosts, findingHosts);
    const v = vendorFor(f, hosts);
    if (!v) {
      notInInventory(f.vendor, f.vendor_id, hosts, f.category);
      continue;
    }
    const entry = meet(v);
    const covering = declared.filter(
      (d) =>
        d.vendor_id === v.id && (d.surface === null || d.surface === "web") && covers(d.category, f.category),
    );
    if (covering.length > 0) {
      // An older scan attached late does not move "last seen" back.
      await tx.query(
        `UPDATE vendor_flows SET last_seen_at = $2, last_seen_scan_id = $3
         WHERE id = ANY($1::uuid[]) AND (last_seen_at IS NULL OR last_seen_at <= $2)`,
        [covering.map((d) => d.id), at, scanId],
      );
      entry.seen += 1;
    } else {
      await tx.query(
        `INSERT INTO vendor_flows (vendor_id, category, surface, fields, declared, last_seen_at, last_seen_scan_id)
         VALUES ($1, $2, 'web', '[]'::jsonb, false, $3, $4)
         ON CONFLICT (vendor_id, category, surface) DO UPDATE
           SET last_seen_at = EXCLUDED.last_seen_at, last_seen_scan_id = EXCLUDED.last_seen_scan_id
           WHERE vendor_flows.last_seen_at IS NULL OR vendor_flows.last_seen_at <= EXCLUDED.last_seen_at`,
        [v.id, f.category, at, scanId],
      );
      entry.undeclared += 1;
      touched.add(v.id);
    }
  }
  for (const id of touched) await refreshRisk(tx, id);
  return {
    vendors: [...met.values()].sort((a, b) => a.name.localeCompare(b.name)),
    unknown_vendors: [...unknown.values()].sort((a, b) => a.vendor.localeCompare(b.vendor)),
  };
}

export async function attachScan(
  ctx: Pick<Context, "db">,
  actor: Actor,
  upload: unknown,
  source?: string,
): Promise<AttachResult> {
  requireRole(actor, "responder", "attaching scans");
  const { summary, findingHosts } = checkScanUpload(upload, source);
  return ctx.db.transaction(async (tx) => {
    const twin = await tx.query<{ id: string }>(
      "SELECT id FROM vendor_scans WHERE scanned_at = $1 AND urls = $2::jsonb",
      [summary.scanned_at, JSON.stringify(summary.urls)],
    );
    if (twin.rows[0])
      throw new AppError("CONFLICT", `this scan is attached already (scan ${twin.rows[0].id})`);
    const r = await tx.query<{ id: string }>(
      `INSERT INTO vendor_scans (scanned_at, urls, summary, attached_by, attached_by_label)
       VALUES ($1, $2::jsonb, $3::jsonb, $4, $5) RETURNING id`,
      [
        summary.scanned_at,
        JSON.stringify(summary.urls),
        JSON.stringify(summary),
        actor.kind === "user" ? (actor.userId ?? null) : null,
        actor.label,
      ],
    );
    const id = (r.rows[0] as { id: string }).id;
    const marked = await markFlows(tx, id, summary, findingHosts);
    await appendAudit(tx, actor, "vendor.scan.attach", `vendor_scan:${id}`, {
      vendors: marked.vendors.length,
      flows_seen: marked.vendors.reduce((n, v) => n + v.seen, 0),
      undeclared: marked.vendors.reduce((n, v) => n + v.undeclared, 0),
      unknown_vendors: marked.unknown_vendors.length,
    });
    return { scan: { id, scanned_at: summary.scanned_at, urls: summary.urls }, ...marked };
  });
}

export type ScanListEntry = {
  id: string;
  scanned_at: string;
  urls: string[];
  attached_by: string | null;
  created_at: string;
  flows_seen: number;
  third_party_hosts: number;
  /** only when listed for one vendor: whether this scan met it */
  sees_vendor?: boolean;
};

/** Attached scans, newest first; for one vendor, each says whether it met that vendor. */
export async function listScans(
  ctx: Pick<Context, "db">,
  actor: Actor,
  options: { vendorId?: string } = {},
): Promise<ScanListEntry[]> {
  requireRole(actor, "viewer", "reading vendors");
  const vendor = options.vendorId ? await readVendor(ctx.db, requireId(options.vendorId, "vendor")) : null;
  const r = await ctx.db.query<{
    id: string;
    scanned_at: Date | string;
    urls: string[];
    summary: StoredScanSummary;
    attached_by_label: string | null;
    created_at: Date | string;
  }>(
    "SELECT id, scanned_at, urls, summary, attached_by_label, created_at FROM vendor_scans ORDER BY scanned_at DESC, created_at DESC, id DESC",
  );
  return r.rows.map((s) => ({
    id: s.id,
    scanned_at: new Date(s.scanned_at).toISOString(),
    urls: s.urls,
    attached_by: s.attached_by_label,
    created_at: new Date(s.created_at).toISOString(),
    flows_seen: s.summary.flows.filter((f) => f.seen).length,
    third_party_hosts: s.summary.third_party_hosts.length,
    ...(vendor ? { sees_vendor: scanSeesVendor(s.summary, vendor) } : {}),
  }));
}
