import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { AppError } from "../lib/errors.ts";

/**
 * Every setting the process reads from its environment, validated once at start-up. A wrong value
 * stops the process with a message naming the variable and what it accepts.
 */
const size = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "a size such as 2GB or 1536MiB");

const schema = z.object({
  BLASTRADIUS_MEMORY_LIMIT: size.default("2GB"),
  BLASTRADIUS_THREADS: z.coerce
    .number({ error: "a whole number" })
    .int("a whole number")
    .min(1, "at least 1")
    .max(256, "at most 256")
    .default(Math.max(1, os.availableParallelism())),
  BLASTRADIUS_TEMP_DIR: z.string().min(1, "a folder path").default(os.tmpdir()),
  BLASTRADIUS_DATA: z.string().min(1, "a folder path").default("./.blastradius"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, "a PostgreSQL URL such as postgres://user@host:5432/db")
    .optional(),
  BLASTRADIUS_ENCRYPTION_KEY: z
    .string()
    .refine(
      (v) => Buffer.from(v, "base64").length === 32,
      "32 random bytes in base64 (openssl rand -base64 32)",
    )
    .optional(),
  BLASTRADIUS_IDENTITIES: z.string().min(1, "a folder path").optional(),
  BLASTRADIUS_MAX_UPLOAD: size.default("20GB"),
  BLASTRADIUS_WORKERS: z.coerce
    .number({ error: "a whole number" })
    .int("a whole number")
    .min(0, "0 or more")
    .max(64, "at most 64")
    .default(1),
  PORT: z.coerce
    .number({ error: "a TCP port (0 to 65535)" })
    .int("a whole number")
    .min(0, "a TCP port")
    .max(65535, "a TCP port")
    .default(8080),
  HOST: z.string().min(1, "an address to listen on, such as 127.0.0.1 or 0.0.0.0").default("127.0.0.1"),
  BLASTRADIUS_TRUST_PROXY: z.enum(["true", "false"], "true or false").default("false"),
  BLASTRADIUS_SMTP_URL: z
    .string()
    .regex(
      /^smtps?:\/\/[^/]+/,
      "an SMTP URL such as smtp://relay.example.com:587 or smtps://user:password@host:465",
    )
    .optional(),
  BLASTRADIUS_DKIM_KEY: z.string().min(1, "the path of a PEM RSA private key").optional(),
  BLASTRADIUS_DKIM_SELECTOR: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a DNS label such as notify2026")
    .optional(),
  BLASTRADIUS_DKIM_DOMAIN: z
    .string()
    .regex(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, "a domain such as example.com")
    .optional(),
  BLASTRADIUS_DPO_CONTACT: z
    .string()
    .trim()
    .min(3, "a name with contact details, such as 'Data Protection Officer, dpo@example.com'")
    .max(500, "at most 500 characters")
    .optional(),
  BLASTRADIUS_CHROMIUM: z.string().min(1, "the path of a Chromium executable").default("/usr/bin/chromium"),
  BLASTRADIUS_OFFICIAL_DOMAINS: z
    .string()
    .regex(
      /^\s*[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\s*(,\s*[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\s*)*$/,
      "the company's own mail domains, comma-separated, such as example.com,example.co.uk",
    )
    .optional(),
  BLASTRADIUS_DNS_CACHE: z
    .string()
    .min(1, "the path of a DNS cache file (mailauth's JSON format)")
    .optional(),
});

export type Config = Readonly<{
  memoryLimit: string;
  threads: number;
  tempDir: string;
  /** the embedded store's folder (PGlite data and dataset files) */
  dataDir: string;
  /** a PostgreSQL server instead of the embedded store */
  databaseUrl?: string;
  /** seals personal data at rest; unset with the embedded store means a key file in dataDir */
  encryptionKey?: Buffer;
  /** the company's identity store export (users, orgs, memberships); default dataDir/identities */
  identitiesDir: string;
  maxUploadBytes: number;
  /** job workers inside the server process (0: only separate `blastradius worker` processes) */
  workers: number;
  port: number;
  host: string;
  /** trust X-Forwarded-* from a reverse proxy (for https detection and client addresses) */
  trustProxy: boolean;
  /** where campaigns send; unset: the built-in outbox */
  smtpUrl?: string;
  /** DKIM signing for campaigns: a key file, its selector, and the signing domain (default: the From domain) */
  dkimKeyFile?: string;
  dkimSelector?: string;
  dkimDomain?: string;
  /** the DPO or other contact point that regulator report drafts name (GDPR Art. 33(3)(b)) */
  dpoContact?: string;
  /** the Chromium the exposure scanner drives */
  chromiumPath: string;
  /** the company's own domains, which the "is this message really from us?" check compares senders with */
  officialDomains: readonly string[];
  /** answer that check's DNS questions from this file (mailauth's DNS cache format) instead of DNS */
  dnsCacheFile?: string;
}>;

const UNITS: Record<string, number> = {
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(value.trim());
  const unit = UNITS[m?.[2]?.toLowerCase() ?? ""];
  if (!m || unit === undefined)
    throw new AppError("USAGE", `${JSON.stringify(value)} is not a size such as 2GB`);
  return Math.floor(Number(m[1]) * unit);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      // a URL's password never reaches a terminal or a log
      const shown = (env[name] ?? "").replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:***@");
      return `${name}=${JSON.stringify(shown)} is not valid: expected ${issue.message}`;
    });
    throw new AppError("USAGE", `configuration: ${lines.join("; ")}`);
  }
  const c = parsed.data;
  if (c.BLASTRADIUS_DKIM_KEY && !c.BLASTRADIUS_DKIM_SELECTOR) {
    throw new AppError(
      "USAGE",
      "configuration: BLASTRADIUS_DKIM_KEY is set but BLASTRADIUS_DKIM_SELECTOR is not",
    );
  }
  return Object.freeze({
    memoryLimit: c.BLASTRADIUS_MEMORY_LIMIT,
    threads: c.BLASTRADIUS_THREADS,
    tempDir: c.BLASTRADIUS_TEMP_DIR,
    dataDir: c.BLASTRADIUS_DATA,
    databaseUrl: c.DATABASE_URL,
    encryptionKey: c.BLASTRADIUS_ENCRYPTION_KEY
      ? Buffer.from(c.BLASTRADIUS_ENCRYPTION_KEY, "base64")
      : undefined,
    identitiesDir: c.BLASTRADIUS_IDENTITIES ?? path.join(c.BLASTRADIUS_DATA, "identities"),
    maxUploadBytes: parseSize(c.BLASTRADIUS_MAX_UPLOAD),
    workers: c.BLASTRADIUS_WORKERS,
    port: c.PORT,
    host: c.HOST,
    trustProxy: c.BLASTRADIUS_TRUST_PROXY === "true",
    smtpUrl: c.BLASTRADIUS_SMTP_URL,
    dkimKeyFile: c.BLASTRADIUS_DKIM_KEY,
    dkimSelector: c.BLASTRADIUS_DKIM_SELECTOR,
    dkimDomain: c.BLASTRADIUS_DKIM_DOMAIN,
    dpoContact: c.BLASTRADIUS_DPO_CONTACT,
    chromiumPath: c.BLASTRADIUS_CHROMIUM,
    officialDomains: (c.BLASTRADIUS_OFFICIAL_DOMAINS ?? "")
      .split(",")
      .map((d) => d.trim().toLowerCase())
      .filter((d) => d !== ""),
    dnsCacheFile: c.BLASTRADIUS_DNS_CACHE,
  });
}
