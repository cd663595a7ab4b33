import { type ParseArgsConfig, parseArgs } from "node:util";
import type { Config } from "../config/env.ts";
import { usageError } from "../lib/errors.ts";

export type Command = Readonly<{
  name: string;
  summary: string;
  help: string;
  run: (argv: readonly string[], config: Config) => Promise<number>;
}>;

/** node:util parseArgs, with its errors turned into usage errors that name the option. */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw usageError(
      (error as Error).message.replace(/^Unknown option/, "unknown option").split(". To specify")[0] ?? "",
    );
  }
}

export function requireOption<V>(value: V | undefined, flag: string): V {
  if (value === undefined || value === "") throw usageError(`missing required option ${flag}`);
  return value;
}

export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw usageError(`${flag} must be a whole number of at least 1 (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}
