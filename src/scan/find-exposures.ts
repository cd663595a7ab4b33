import type { DeclaredVendor } from "../vendors/vendor-file.ts";
import { decodeRequest } from "./decode-payload.ts";
import { findSeeds, type NeedleSet } from "./match-seeds.ts";
import type { CapturedRequest } from "./run-scan.ts";
import { siteOf } from "./site.ts";
import type { CatalogueVendor, VendorCatalogue } from "./vendor-catalogue.ts";

/**
 * From captured requests to findings: which vendor received which seeded value, how it was
 * encoded, and whether the inventory declares that (vendor, category) flow.
 */

export type Finding = {
  vendor: string;
  /** The catalogue's id, or `site:<domain>` for a third party the catalogue does not know. */
  vendor_id: string;
  vendor_category: string | null;
  host: string;
  url: string;
  method: string;
  category: string;
  seed_field: string;
  chain: string[];
  declared: boolean;
  first_party_proxy: boolean;
  resource_type: string;
  page: string;
  /**
   * How many times this finding was seen: same vendor, host, method, path, field and chain, where
   * array positions do not count (the first and the ninth event of a batch are one finding).
   */
  requests: number;
};

export type Flow = {
  vendor: string;
  vendor_id: string;
  category: string;
  declared: boolean;
  seen: boolean;
  seed_fields: string[];
};

export type ThirdPartyHost = {
  host: string;
  vendor: string | null;
  vendor_id: string | null;
  requests: number;
  failed: number;
};

export type Exposures = {
  findings: Finding[];
  /** Every (vendor, category) flow seen or declared for the web. */
  flows: Flow[];
  third_party_hosts: ThirdPartyHost[];
  /** Requests whose decoding stopped at a size or depth cap. */
  truncated: number;
};

type Identified = { vendor: string; vendor_id: string; vendor_category: string | null };

const fromCatalogue = (v: CatalogueVendor): Identified => ({
  vendor: v.name,
  vendor_id: v.id,
  vendor_category: v.category,
});

function inventoryVendorFor(inventory: readonly DeclaredVendor[], id: Identified, host: string) {
  return inventory.find(
    (d) =>
      (d.catalogue ?? "").toLowerCase() === id.vendor_id ||
      d.name.toLowerCase() === id.vendor.toLowerCase() ||
      d.name.toLowerCase() === id.vendor_id ||
      d.domains.some((dom) => host === dom || host.endsWith(`.${dom}`)),
  );
}

/** A declared category covers its own key and every key below it (user.contact covers user.contact.email). */
const covers = (declared: string, seen: string) => seen === declared || seen.startsWith(`${declared}.`);

function isDeclared(vendor: DeclaredVendor | undefined, category: string): boolean {
  return (vendor?.data ?? []).some(
    (f) => (f.surface === null || f.surface === "web") && covers(f.category, category),
  );
}

export function findExposures(
  requests: readonly CapturedRequest[],
  deps: Readonly<{ needles: NeedleSet; catalogue: VendorCatalogue; inventory: readonly DeclaredVendor[] }>,
): Exposures {
  const findings = new Map<string, Finding>();
  const hosts = new Map<string, ThirdPartyHost>();
  let truncated = 0;
  for (const request of requests) {
    const url = new URL(request.url);
    const host = url.hostname.toLowerCase();
    let vendor: CatalogueVendor | undefined;
    if (request.thirdParty) {
      vendor = deps.catalogue.byHost(host);
      const entry = hosts.get(host) ?? {
        host,
        vendor: vendor?.name ?? null,
        vendor_id: vendor?.id ?? null,
        requests: 0,
        failed: 0,
      };
      entry.requests += 1;
      if (request.failure) entry.failed += 1;
      hosts.set(host, entry);
    }
    // The app's own page loads and static files carry nothing to a vendor.
    if (!request.thirdParty && request.resourceType === "document") continue;
    const decoded = decodeRequest({ url: request.url, headers: request.headers, body: request.body });
    if (decoded.truncated) truncated += 1;
    const proxied = !request.thirdParty ? deps.catalogue.bySignature(decoded.keys, url.pathname) : undefined;
    if (!request.thirdParty && !proxied) continue;
    if (request.thirdParty && !vendor) vendor = deps.catalogue.bySignature(decoded.keys, url.pathname);
    const id: Identified =
      vendor || proxied
        ? fromCatalogue((vendor ?? proxied) as CatalogueVendor)
        : { vendor: siteOf(host), vendor_id: `site:${siteOf(host)}`, vendor_category: null };
    const declaredVendor = inventoryVendorFor(deps.inventory, id, host);
    for (const match of findSeeds(deps.needles, decoded.leaves)) {
      // The same field in the 1st or the 9th event of a batch is one finding, counted.
      const shape = match.chain.map((step) => step.replace(/\[\d+\]/g, "[]"));
      const key = JSON.stringify([id.vendor_id, host, request.method, url.pathname, match.seed_field, shape]);
      const existing = findings.get(key);
      if (existing) {
        existing.requests += 1;
        continue;
      }
      findings.set(key, {
        vendor: id.vendor,
        vendor_id: id.vendor_id,
        vendor_category: id.vendor_category,
        host,
        url: request.url,
        method: request.method,
        category: match.category,
        seed_field: match.seed_field,
        chain: match.chain,
        declared: isDeclared(declaredVendor, match.category),
        first_party_proxy: proxied !== undefined,
        resource_type: request.resourceType,
        page: request.page,
        requests: 1,
      });
    }
  }
  const list = [...findings.values()].sort(
    (a, b) =>
      Number(a.declared) - Number(b.declared) ||
      a.vendor.localeCompare(b.vendor) ||
      a.category.localeCompare(b.category) ||
      a.seed_field.localeCompare(b.seed_field) ||
      a.chain.length - b.chain.length,
  );
  return {
    findings: list,
    flows: flowsOf(list, deps.inventory),
    third_party_hosts: [...hosts.values()].sort(
      (a, b) => b.requests - a.requests || a.host.localeCompare(b.host),
    ),
    truncated,
  };
}

function flowsOf(findings: readonly Finding[], inventory: readonly DeclaredVendor[]): Flow[] {
  const flows = new Map<string, Flow>();
  for (const f of findings) {
    const key = `${f.vendor_id}\u0000${f.category}`;
    const flow = flows.get(key) ?? {
      vendor: f.vendor,
      vendor_id: f.vendor_id,
      category: f.category,
      declared: f.declared,
      seen: true,
      seed_fields: [],
    };
    if (!flow.seed_fields.includes(f.seed_field)) flow.seed_fields.push(f.seed_field);
    flows.set(key, flow);
  }
  // Declared web flows that no finding covers: the SDK may be gone, or the scan did not reach it.
  for (const d of inventory) {
    for (const f of d.data) {
      if (f.surface !== null && f.surface !== "web") continue;
      const seen = findings.some(
        (x) => inventoryVendorFor([d], x, x.host) !== undefined && covers(f.category, x.category),
      );
      if (!seen) {
        flows.set(`declared\u0000${d.name}\u0000${f.category}`, {
          vendor: d.name,
          vendor_id: d.catalogue ?? d.name.toLowerCase(),
          category: f.category,
          declared: true,
          seen: false,
          seed_fields: [],
        });
      }
    }
  }
  return [...flows.values()].sort(
    (a, b) =>
      Number(a.declared) - Number(b.declared) ||
      Number(b.seen) - Number(a.seen) ||
      a.vendor.localeCompare(b.vendor) ||
      a.category.localeCompare(b.category),
  );
}
