import { readFile } from "node:fs/promises";
import { badInput } from "../../lib/errors.ts";
import { checkName } from "./idna.ts";

/**
 * Reads a dictionary file for the fuzzers: one entry a line, blank lines and comments ("#" or "//",
 * as in dnstwist's dictionaries) skipped. Words are labels (login, https-www); TLD entries may have
 * dots (com.br). An entry that cannot be part of a domain is an error naming the file and line.
 */
export async function readWordList(file: string, option: string, kind: "word" | "suffix"): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw badInput(
      `${option} ${file}: ${code === "ENOENT" ? "no such file" : `cannot read it (${code ?? "error"})`}`,
    );
  }
  const entries: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const entry = raw.trim().toLowerCase();
    if (entry === "" || entry.startsWith("#") || entry.startsWith("//")) return;
    const withoutDot = kind === "suffix" && entry.startsWith(".") ? entry.slice(1) : entry;
    const checked = checkName(`x.${withoutDot}`);
    if (typeof checked === "string" || (kind === "word" && withoutDot.includes("."))) {
      const why = typeof checked === "string" ? checked : "a word is one label, without dots";
      throw badInput(
        `${option} ${file} line ${i + 1}: ${JSON.stringify(raw.trim())} is not a valid ${kind} (${why})`,
      );
    }
    const unicode = checked.unicode.slice(2);
    if (!seen.has(unicode)) {
      seen.add(unicode);
      entries.push(unicode);
    }
  });
  return entries;
}
