import os from "node:os";
import { z } from "zod";
import { AppError } from "../lib/errors.ts";

/**
 * Every setting the process reads from its environment, validated once at start-up. A wrong value
 * stops the process with a message naming the variable and what it accepts.
 */
const schema = z.object({
  BLASTRADIUS_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "a size such as 2GB or 1536MiB")
    .default("2GB"),
  BLASTRADIUS_THREADS: z.coerce
    .number()
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
});

export type Config = Readonly<{
  memoryLimit: string;
  threads: number;
  tempDir: string;
  /** the embedded store's folder (PGlite data and dataset files) */
  dataDir: string;
  /** a PostgreSQL server instead of the embedded store */
  databaseUrl?: string;
}>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}=${JSON.stringify(env[name] ?? "")} is not valid: expected ${issue.message}`;
    });
    throw new AppError("USAGE", `configuration: ${lines.join("; ")}`);
  }
  const c = parsed.data;
  return Object.freeze({
    memoryLimit: c.BLASTRADIUS_MEMORY_LIMIT,
    threads: c.BLASTRADIUS_THREADS,
    tempDir: c.BLASTRADIUS_TEMP_DIR,
    dataDir: c.BLASTRADIUS_DATA,
    databaseUrl: c.DATABASE_URL,
  });
}
