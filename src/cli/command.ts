import { type ParseArgsConfig, parseArgs } from "node:util";
import type { Context } from "../app/context.ts";
import { openContext } from "../app/open-context.ts";
import type { Config } from "../config/env.ts";
import { usageError } from "../lib/errors.ts";

export type Command = Readonly<{
  name: string;
  help: string;
  run: (argv: readonly string[], config: Config) => Promise<number>;
}>;

const parseError = (error: unknown) =>
  usageError(
    (error as Error).message
      .replace(/^Unknown option/, "unknown option")
      .replace(/^Unexpected argument/, "unexpected argument")
      .split(". To specify")[0] ?? "",
  );

/** node:util parseArgs, with its errors turned into usage errors that name the option. */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw parseError(error);
  }
}

/** parseOptions for commands that also take arguments (ids, files): options anywhere among them. */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
) {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values, positionals };
  } catch (error) {
    throw parseError(error);
  }
}

/**
 * Exactly the arguments named (e.g. ["ID", "NAME"]), in order; a missing or extra one is a usage
 * error that says which.
 */
export function expectArguments(positionals: readonly string[], names: readonly string[]): string[] {
  const missing = names.slice(positionals.length);
  if (missing.length > 0) throw usageError(`missing ${missing.join(" ")}`);
  const extra = positionals.slice(names.length);
  if (extra.length > 0) throw usageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  return [...positionals];
}

/** The usage error for a command with subcommands when the first word is not one of them. */
export function subcommandError(sub: string | undefined, names: readonly string[]) {
  return usageError(
    sub === undefined
      ? `missing subcommand: ${names.join(", ")}`
      : `unknown subcommand '${sub}': ${names.join(", ")}`,
  );
}

/**
 * Opens the store (and the sealing key) for one command and closes it afterwards, whatever happens.
 * Commands check their options first, so a typo never waits on a busy store.
 */
export async function withContext<R>(config: Config, work: (ctx: Context) => Promise<R>): Promise<R> {
  const ctx = await openContext(config);
  try {
    if (ctx.keyCreated) {
      process.stderr.write(
        `Created the encryption key ${config.dataDir}/encryption.key: back it up; sealed data is lost without it.\n`,
      );
    }
    return await work(ctx);
  } finally {
    await ctx.close();
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
