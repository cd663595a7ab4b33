import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { badInput } from "../lib/errors.ts";
import { type Rule, ruleSchema } from "./rule-schema.ts";

export const RULES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "rules");

/**
 * Reads and validates one rule file; every problem names the file and the field. The id must match
 * the file name, or `expectId` when given (a controller's own contract file may be called anything).
 */
export async function loadRuleFile(file: string, expectId?: string): Promise<Rule> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, "utf8"));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { linePos?: { line: number }[] };
    if (e.code && !e.linePos) throw badInput(`${file}: cannot read the rule file (${e.code})`);
    const line = e.linePos?.[0]?.line;
    throw badInput(`${file}${line ? ` line ${line}` : ""}: not valid YAML: ${e.message.split("\n")[0]}`);
  }
  const parsed = ruleSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw badInput(`${file}: not a valid rule: ${issues.join("; ")}`);
  }
  const id = expectId ?? path.basename(file).replace(/\.ya?ml$/, "");
  if (parsed.data.id !== id) throw badInput(`${file}: id is ${parsed.data.id}, expected ${id}`);
  return parsed.data;
}

/** Every regime's rule, sorted by id; `contractFile` replaces the bundled contract rule. */
export async function loadRules(options: { dir?: string; contractFile?: string } = {}): Promise<Rule[]> {
  const dir = options.dir ?? RULES_DIR;
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const rules: Rule[] = [];
  for (const f of files) {
    if (options.contractFile && f.startsWith("contract.")) continue;
    rules.push(await loadRuleFile(path.join(dir, f)));
  }
  if (options.contractFile) rules.push(await loadRuleFile(options.contractFile, "contract"));
  return rules.sort((a, b) => (a.id < b.id ? -1 : 1));
}
