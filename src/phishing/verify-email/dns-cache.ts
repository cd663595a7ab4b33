import { promises as dns } from "node:dns";
import { readFile } from "node:fs/promises";
import { badInput } from "../../lib/errors.ts";

/**
 * Where mailauth's DNS questions go: the system resolver, or a DNS cache file in the format of
 * mailauth's own `--dns-cache` option, so a check runs offline and gives the same answer every time:
 *
 *   { "example.com": { "TXT": [["v=spf1 ip4:192.0.2.0/24 -all"]] },
 *     "sel._domainkey.example.com": { "TXT": [["v=DKIM1; k=rsa; p=", "MIIB..."]] },
 *     "_dmarc.example.com": { "TXT": [["v=DMARC1; p=reject"]] } }
 *
 * Names, then record types, then the answers as Node's dns.resolve() gives them (TXT: an array of
 * strings per record; MX: { exchange, priority }; A: "192.0.2.1"). A question the cache cannot answer
 * fails like DNS does (ENOTFOUND for an unknown name, ENODATA for a known name without that type);
 * it never goes to the network.
 */

/** mailauth's resolver: answers or throws an Error with a DNS `code`. */
export type DnsResolver = (name: string, type: string) => Promise<never[]>;

export type DnsCache = Readonly<Record<string, Readonly<Record<string, readonly unknown[]>>>>;

/** The system's resolver (what mailauth uses by default), for checks against live DNS. */
export const systemResolver: DnsResolver = (name, type) => dns.resolve(name, type) as Promise<never[]>;

class DnsError extends Error {
  readonly code: string;
  constructor(code: "ENOTFOUND" | "ENODATA", type: string, name: string) {
    super(`query${type} ${code} ${name}`);
    this.name = "DnsError";
    this.code = code;
  }
}

/** DNS names compare without case and without the root's trailing dot. */
const normalName = (name: string) => name.trim().toLowerCase().replace(/\.$/, "");

/** Checks the shape of a parsed cache file; the error names the file and the entry at fault. */
export function parseDnsCache(json: unknown, where: string): DnsCache {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw badInput(
      `${where}: expected a JSON object of names, each an object of record types (mailauth's format)`,
    );
  }
  const cache: Record<string, Record<string, readonly unknown[]>> = {};
  for (const [name, types] of Object.entries(json)) {
    if (typeof types !== "object" || types === null || Array.isArray(types)) {
      throw badInput(
        `${where}: ${JSON.stringify(name)} must be an object of record types, such as {"TXT": [["..."]]}`,
      );
    }
    const entry: Record<string, readonly unknown[]> = {};
    for (const [type, answers] of Object.entries(types as Record<string, unknown>)) {
      if (!Array.isArray(answers)) {
        throw badInput(`${where}: ${JSON.stringify(name)} ${type} must be an array of answers`);
      }
      if (
        type.toUpperCase() === "TXT" &&
        !answers.every((a) => Array.isArray(a) && a.every((s) => typeof s === "string"))
      ) {
        throw badInput(
          `${where}: ${JSON.stringify(name)} TXT must be an array of records, each an array of strings ([["v=spf1 -all"]])`,
        );
      }
      entry[type.toUpperCase()] = answers;
    }
    cache[normalName(name)] = { ...cache[normalName(name)], ...entry };
  }
  return cache;
}

/** A resolver that answers from the cache only. */
export function cacheResolver(cache: DnsCache): DnsResolver {
  return async (name, type) => {
    const entry = cache[normalName(name)];
    if (!entry) throw new DnsError("ENOTFOUND", type, name);
    const answers = entry[type.toUpperCase()];
    if (!answers) throw new DnsError("ENODATA", type, name);
    // a copy: mailauth may change what it is given
    return structuredClone(answers) as never[];
  };
}

/** Reads a DNS cache file; `what` names where the path came from (an option or a setting). */
export async function loadDnsCache(file: string, what = "--dns-cache"): Promise<DnsCache> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw badInput(
      `${what} ${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder, not a file" : (error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw badInput(`${what} ${file}: not valid JSON (${(error as Error).message})`);
  }
  return parseDnsCache(json, `${what} ${file}`);
}
