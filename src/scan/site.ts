import { getDomain } from "tldts";

/**
 * The registrable domain ("site") a host belongs to, from the public suffix list: app.shop.co.uk and
 * api.shop.co.uk are one site. An IP address or a single-label host is its own site.
 */
export function siteOf(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, "");
  return getDomain(h, { allowPrivateDomains: true }) ?? h;
}

export function isSameSite(host: string, other: string): boolean {
  return siteOf(host) === siteOf(other);
}
