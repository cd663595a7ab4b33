import { domainToASCII } from "node:url";
import { getDomain } from "tldts";
import { parseTarget } from "../lookalikes/target.ts";

/** Domain names as the message check compares them: lowercase ASCII (punycode), no trailing dot. */

/** The ASCII form of a host or mail domain, or "" when it is not a domain name at all. */
export function asciiHost(host: string): string {
  const trimmed = host.trim().replace(/\.$/, "");
  if (trimmed === "") return "";
  return domainToASCII(trimmed).toLowerCase();
}

/** The domain of an address (after the last @), ASCII. */
export const addressDomain = (address: string): string =>
  asciiHost(address.slice(address.lastIndexOf("@") + 1));

/** The part of a host that someone registered: mail.example.co.uk → example.co.uk. */
export function registrableDomain(host: string): string {
  return getDomain(host, { allowPrivateDomains: true }) ?? host;
}

/** The official domains, checked (a bad one throws a bad-input error naming it), ASCII, without repeats. */
export function parseOfficialDomains(domains: readonly string[], what = "--official"): string[] {
  const names = domains
    .flatMap((d) => d.split(","))
    .map((d) => d.trim())
    .filter((d) => d !== "");
  return [...new Set(names.map((d) => parseTarget(d, what).asciiName))];
}

/** Whether a host is an official domain or a name under one. */
export function isOfficialHost(host: string, officials: readonly string[]): boolean {
  return host !== "" && officials.some((o) => host === o || host.endsWith(`.${o}`));
}

export type BrandWord = Readonly<{ word: string; domain: string }>;

/** The registrable label of each official domain ("openai" for openai.com): the brand a name may claim. */
export function brandWords(officials: readonly string[]): BrandWord[] {
  return officials.map((domain) => ({ word: parseTarget(domain).label, domain }));
}
