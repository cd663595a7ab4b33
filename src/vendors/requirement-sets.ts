import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Context } from "../app/context.ts";
import { appendAudit } from "../audit/audit-log.ts";
import { type Actor, requireRole } from "../auth/roles.ts";
import { AppError, badInput } from "../lib/errors.ts";
import { requireId } from "../lib/ids.ts";

/**
 * Requirement sets as data: what a vendor must do to keep our data safe, one YAML file per set in
 * src/vendors/requirements. A set may extend another and replace the requirements it strengthens,
 * so `elevated` is baseline with stricter versions of some items and a few more. Questionnaires ask
 * a set's questions; every "no" or "partial" answer opens a finding of the set's severity.
 */

export const REQUIREMENTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "requirements");

export const RISK_TIER_ORDER = ["low", "medium", "high", "critical"] as const;
export type RiskTier = (typeof RISK_TIER_ORDER)[number];
export const SEVERITIES = RISK_TIER_ORDER;
export type Severity = RiskTier;

/** Statuses a set can be assigned to in bulk; vendors on their way out are never given new requirements. */
export const ASSIGNABLE_STATUSES = ["active", "under_review"] as const;
export type AssignableStatus = (typeof ASSIGNABLE_STATUSES)[number];

const setName = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, "lower-case letters, digits, '_' or '-'");
const text = (max: number) => z.string().trim().min(1).max(max);

const requirementSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,59}$/, "lower-case letters, digits and '_'"),
    title: text(200),
    question: text(2000),
    why: text(2000),
    /** the id of the extended set's requirement that this one strengthens */
    replaces: z.string().optional(),
  })
  .strict();

const setSchema = z
  .object({
    name: setName,
    title: text(100),
    description: text(2000),
    finding_severity: z.enum(SEVERITIES),
    extends: setName.optional(),
    requirements: z.array(requirementSchema).min(1),
  })
  .strict();

type SetFile = z.infer<typeof setSchema>;

export type Requirement = {
  id: string;
  title: string;
  question: string;
  why: string;
  /** the set whose file defines it (a requirement taken over from an extended set names that set) */
  from: string;
};

export type RequirementSet = {
  name: string;
  title: string;
  description: string;
  /** the severity of a finding opened for a "no" or "partial" answer */
  finding_severity: Severity;
  extends: string | null;
  /** the set's own requirements first, then the extended set's that it does not replace */
  requirements: Requirement[];
};

async function readSetFile(file: string): Promise<SetFile> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, "utf8"));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { linePos?: { line: number }[] };
    if (e.code && !e.linePos) throw badInput(`${file}: cannot read the requirement set (${e.code})`);
    const line = e.linePos?.[0]?.line;
    throw badInput(`${file}${line ? ` line ${line}` : ""}: not valid YAML: ${e.message.split("\n")[0]}`);
  }
  const parsed = setSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw badInput(`${file}: not a valid requirement set: ${issues.join("; ")}`);
  }
  const name = path.basename(file).replace(/\.ya?ml$/, "");
  if (parsed.data.name !== name) {
    throw badInput(`${file}: name is ${parsed.data.name}, expected ${name} (the file's name)`);
  }
  return parsed.data;
}

/** Resolves `extends` chains; every problem names the file of the set that has it. */
function resolveSets(files: ReadonlyMap<string, SetFile>, dir: string): RequirementSet[] {
  const resolved = new Map<string, RequirementSet>();
  const resolve = (name: string, chain: readonly string[]): RequirementSet => {
    const done = resolved.get(name);
    if (done) return done;
    const file = files.get(name);
    const where = path.join(dir, `${name}.yaml`);
    if (!file) throw badInput(`${where}: no such requirement set`);
    if (chain.includes(name)) throw badInput(`${where}: extends itself (${[...chain, name].join(" → ")})`);
    let inherited: Requirement[] = [];
    if (file.extends !== undefined) {
      if (!files.has(file.extends)) {
        throw badInput(`${where}: extends: no requirement set ${JSON.stringify(file.extends)}`);
      }
      inherited = resolve(file.extends, [...chain, name]).requirements;
    }
    const replaced = new Set<string>();
    file.requirements.forEach((r, i) => {
      if (r.replaces === undefined) return;
      if (!inherited.some((x) => x.id === r.replaces)) {
        throw badInput(
          `${where}: requirements.${i}.replaces: ${file.extends ?? "(no extended set)"} has no requirement ${JSON.stringify(r.replaces)}`,
        );
      }
      replaced.add(r.replaces);
    });
    const requirements: Requirement[] = [
      ...file.requirements.map((r) => ({
        id: r.id,
        title: r.title,
        question: r.question,
        why: r.why,
        from: name,
      })),
      ...inherited.filter((r) => !replaced.has(r.id)),
    ];
    const seen = new Set<string>();
    for (const r of requirements) {
      if (seen.has(r.id)) throw badInput(`${where}: requirement id ${r.id} appears twice`);
      seen.add(r.id);
    }
    const set: RequirementSet = {
      name,
      title: file.title,
      description: file.description,
      finding_severity: file.finding_severity,
      extends: file.extends ?? null,
      requirements,
    };
    resolved.set(name, set);
    return set;
  };
  return [...files.keys()].sort().map((name) => resolve(name, []));
}

/** Reads, validates and resolves every set in `dir`, sorted by name. */
export async function loadRequirementSetsFrom(dir: string): Promise<RequirementSet[]> {
  const names = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const files = new Map<string, SetFile>();
  for (const f of names) {
    const set = await readSetFile(path.join(dir, f));
    if (files.has(set.name)) throw badInput(`${path.join(dir, f)}: a second file for set ${set.name}`);
    files.set(set.name, set);
  }
  return resolveSets(files, dir);
}

let bundled: Promise<RequirementSet[]> | undefined;

/** The bundled sets, read and checked once per process. */
export function loadRequirementSets(): Promise<RequirementSet[]> {
  bundled ??= loadRequirementSetsFrom(REQUIREMENTS_DIR).catch((error: unknown) => {
    bundled = undefined;
    throw error;
  });
  return bundled;
}

/** One bundled set by name; an unknown name is a BAD_INPUT error that names `field` and the choices. */
export async function requirementSet(name: string, field = "set"): Promise<RequirementSet> {
  const sets = await loadRequirementSets();
  const set = sets.find((s) => s.name === name);
  if (!set) {
    throw badInput(`${field}: one of ${sets.map((s) => s.name).join(", ")} (got ${JSON.stringify(name)})`);
  }
  return set;
}

export async function listRequirementSets(actor: Actor): Promise<RequirementSet[]> {
  requireRole(actor, "viewer", "reading requirement sets");
  return loadRequirementSets();
}

export function tierAtLeast(tier: string | null, min: RiskTier): boolean {
  const i = RISK_TIER_ORDER.indexOf(tier as RiskTier);
  return i >= 0 && i >= RISK_TIER_ORDER.indexOf(min);
}

export type AssignedSet = { vendor_id: string; requirement_set: string | null; previous: string | null };

/** Gives one vendor a requirement set (null: none). */
export async function assignRequirementSet(
  ctx: Pick<Context, "db">,
  actor: Actor,
  vendorId: string,
  set: string | null,
): Promise<AssignedSet> {
  requireRole(actor, "responder", "assigning requirement sets");
  requireId(vendorId, "vendor");
  if (set !== null) await requirementSet(set, "set");
  return ctx.db.transaction(async (tx) => {
    const r = await tx.query<{ requirement_set: string | null; status: string }>(
      "SELECT requirement_set, status FROM vendors WHERE id = $1 FOR UPDATE",
      [vendorId],
    );
    const vendor = r.rows[0];
    if (!vendor) throw new AppError("NOT_FOUND", `no vendor ${vendorId}`);
    if (set !== null && (vendor.status === "offboarding" || vendor.status === "offboarded")) {
      throw new AppError("CONFLICT", `vendor ${vendorId} is ${vendor.status}: it gets no new requirements`);
    }
    await tx.query("UPDATE vendors SET requirement_set = $2, updated_at = now() WHERE id = $1", [
      vendorId,
      set,
    ]);
    await appendAudit(tx, actor, "vendor.requirements.assign", `vendor:${vendorId}`, {
      set,
      previous: vendor.requirement_set,
    });
    return { vendor_id: vendorId, requirement_set: set, previous: vendor.requirement_set };
  });
}

export type BulkAssignInput = {
  set: string;
  min_tier: RiskTier;
  /** default: active and under_review */
  include_statuses?: readonly string[];
};

export type BulkAssignResult = {
  /** vendors whose set changed */
  assigned: number;
  vendors: string[];
  /** vendors in scope that had the set already */
  unchanged: number;
};

/**
 * Raises the bar for every vendor at or above a risk tier in one step: each vendor in scope whose
 * set differs gets `set`, with one audit event per vendor. Vendors without a tier are not in scope
 * (their risk is unknown, not low), nor are vendors being offboarded or offboarded.
 */
export async function assignRequirementsByTier(
  ctx: Pick<Context, "db">,
  actor: Actor,
  input: BulkAssignInput,
): Promise<BulkAssignResult> {
  requireRole(actor, "responder", "assigning requirement sets");
  await requirementSet(input.set, "set");
  if (!(RISK_TIER_ORDER as readonly string[]).includes(input.min_tier)) {
    throw badInput(`min_tier: one of ${RISK_TIER_ORDER.join(", ")} (got ${JSON.stringify(input.min_tier)})`);
  }
  const statuses = [...new Set(input.include_statuses ?? ASSIGNABLE_STATUSES)];
  for (const s of statuses) {
    if (!(ASSIGNABLE_STATUSES as readonly string[]).includes(s)) {
      throw badInput(
        `include_statuses: ${JSON.stringify(s)} is not one of ${ASSIGNABLE_STATUSES.join(", ")} (vendors being offboarded or offboarded get no new requirements)`,
      );
    }
  }
  if (statuses.length === 0) throw badInput("include_statuses: name at least one status");
  const tiers = RISK_TIER_ORDER.slice(RISK_TIER_ORDER.indexOf(input.min_tier));
  return ctx.db.transaction(async (tx) => {
    const r = await tx.query<{ id: string; requirement_set: string | null }>(
      `SELECT id::text AS id, requirement_set FROM vendors
       WHERE risk_tier = ANY($1::text[]) AND status = ANY($2::text[])
       ORDER BY lower(name), id FOR UPDATE`,
      [tiers, statuses],
    );
    const changing = r.rows.filter((v) => v.requirement_set !== input.set);
    if (changing.length > 0) {
      await tx.query(
        "UPDATE vendors SET requirement_set = $2, updated_at = now() WHERE id = ANY($1::uuid[])",
        [changing.map((v) => v.id), input.set],
      );
    }
    for (const v of changing) {
      await appendAudit(tx, actor, "vendor.requirements.assign", `vendor:${v.id}`, {
        set: input.set,
        previous: v.requirement_set,
        min_tier: input.min_tier,
      });
    }
    return {
      assigned: changing.length,
      vendors: changing.map((v) => v.id),
      unchanged: r.rows.length - changing.length,
    };
  });
}
