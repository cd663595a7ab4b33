import { getPublicSuffix } from "tldts";
import { badInput } from "../../lib/errors.ts";
import { checkName, normaliseName } from "./idna.ts";

/**
 * A domain split the way lookalikes are made from it: the registrable label is the one before the
 * public suffix ("openai" in www.openai.co.uk), and fuzzers change that label, the suffix, or both.
 */
export type Target = Readonly<{
  /** the name as given, lowercase Unicode: www.openai.co.uk */
  name: string;
  /** labels left of the registrable one, or "": www */
  subdomain: string;
  /** the registrable label: openai */
  label: string;
  /** the public suffix: co.uk */
  suffix: string;
  /** label.suffix: openai.co.uk */
  domain: string;
  /** the ASCII (punycode) forms of name and domain */
  asciiName: string;
  asciiDomain: string;
}>;

// Private suffixes count (github.io, pages.dev): a name under one is somebody's own domain.
const TLDTS_OPTIONS = {
  allowPrivateDomains: true,
  extractHostname: false,
  validateHostname: false,
  detectIp: false,
  mixedInputs: false,
} as const;

/** The public suffix of an ASCII name (the last label for suffixes the list does not know). */
export function publicSuffixOf(asciiName: string): string {
  return getPublicSuffix(asciiName, TLDTS_OPTIONS) ?? asciiName.slice(asciiName.lastIndexOf(".") + 1);
}

/** Parses a domain someone gave us, or throws a bad-input error that says what is wrong with it. */
export function parseTarget(raw: string, what = "domain"): Target {
  const checked = checkName(normaliseName(raw));
  if (typeof checked === "string")
    throw badInput(`${what} ${JSON.stringify(raw)} is not a valid domain: ${checked}`);
  const suffixLabels = publicSuffixOf(checked.ascii).split(".").length;
  const unicodeLabels = checked.unicode.split(".");
  const asciiLabels = checked.ascii.split(".");
  if (unicodeLabels.length <= suffixLabels) {
    throw badInput(`${what} ${JSON.stringify(raw)} is a public suffix, not a registrable domain`);
  }
  if (/^[0-9]+$/.test(asciiLabels.at(-1) ?? "")) {
    throw badInput(`${what} ${JSON.stringify(raw)} is an IP address or ends in a number, not a domain`);
  }
  const at = unicodeLabels.length - suffixLabels - 1;
  return {
    name: checked.unicode,
    subdomain: unicodeLabels.slice(0, at).join("."),
    label: unicodeLabels[at] as string,
    suffix: unicodeLabels.slice(at + 1).join("."),
    domain: unicodeLabels.slice(at).join("."),
    asciiName: checked.ascii,
    asciiDomain: asciiLabels.slice(at).join("."),
  };
}

/** The target's name with another registrable label (and optionally another suffix). */
export function withLabel(t: Target, label: string, suffix = t.suffix): string {
  return t.subdomain ? `${t.subdomain}.${label}.${suffix}` : `${label}.${suffix}`;
}
