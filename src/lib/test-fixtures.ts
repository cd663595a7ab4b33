import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { type Config, loadConfig } from "../config/env.ts";

/** Helpers shared by tests: a temp folder, files written into it, a small configuration. */

export const testConfig: Config = loadConfig({ BLASTRADIUS_MEMORY_LIMIT: "1GB", BLASTRADIUS_THREADS: "2" });

export async function tempDir(prefix = "blastradius-test-"): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function put(
  dir: string,
  name: string,
  content: string | Buffer,
  gzip = false,
): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, gzip ? gzipSync(content) : content);
  return file;
}

export const jsonl = (...records: unknown[]) => `${records.map((r) => JSON.stringify(r)).join("\n")}\n`;

export type IdentityFixture = {
  users?: string;
  orgs?: string;
  memberships?: string;
};

/** An identity store folder; each table defaults to a small valid one. */
export async function identities(dir: string, fixture: IdentityFixture = {}): Promise<string> {
  const ids = path.join(dir, "ids");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(ids, { recursive: true });
  await put(
    ids,
    "users.csv",
    fixture.users ??
      "user_id,email,name,country,language\nu1,alice@example.com,Alice,DE,de\nu2,Bob@Example.com,Bob,,en\nu3,carol@example.com,Carol,FR,fr\n",
  );
  await put(ids, "orgs.csv", fixture.orgs ?? "org_id,name,country\no1,Org One,DE\no2,Org Two,FR\n");
  await put(
    ids,
    "memberships.csv",
    fixture.memberships ?? "org_id,user_id,role\no1,u1,owner\no1,u2,member\no2,u3,admin\no2,u9,owner\n",
  );
  return ids;
}

export const event = (properties: Record<string, unknown>, name = "Page View") => ({
  event: name,
  properties: { time: 1763000000, ...properties },
});

export const profile = (distinctId: string, properties: Record<string, unknown>) => ({
  $distinct_id: distinctId,
  $properties: properties,
});
