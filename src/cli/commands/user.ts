import {
  bootstrapFirstAdmin,
  countUsers,
  createUser,
  listUsers,
  normalizeEmail,
  type TotpEnrollment,
  type User,
} from "../../auth/accounts.ts";
import { checkPasswordPolicy, MIN_PASSWORD_LENGTH } from "../../auth/passwords.ts";
import { cliActor, ROLES, type Role } from "../../auth/roles.ts";
import { AppError, badInput, usageError } from "../../lib/errors.ts";
import {
  type Command,
  expectArguments,
  parseCommandLine,
  requireOption,
  subcommandError,
  withContext,
} from "../command.ts";

const SUBCOMMANDS = ["bootstrap", "add", "list"] as const;
const PASSWORD_ENV = "BLASTRADIUS_PASSWORD";

const help = `Usage: blastradius user bootstrap --email E [--name N] [--json]
       blastradius user add --email E --role R [--name N] [--json]
       blastradius user list [--json]

Accounts that sign in to the workspace. Running this on the store's machine acts as an admin; the
audit log records the actor "cli".

bootstrap  creates the first admin, when no account exists yet (instead of the one-time code the
           server prints). Admins must use a second factor: its secret and otpauth URI are printed
           once; add them to an authenticator app.
add        creates an account with a role:
             viewer     incidents, vendors, timelines, decisions, summaries and obligations
             analyst    + upload datasets, set mappings, run analyses, read affected people and orgs
             responder  + create and change incidents, clocks, timeline entries, decisions, vendors
             admin      + accounts, others' API tokens, the audit log, purges (second factor printed)
list       the accounts: id, email, role, second factor, disabled, name.

The password (at least ${MIN_PASSWORD_LENGTH} characters) is never an option, so it stays out of shell history
and process lists: it is read from ${PASSWORD_ENV}, else from the first line of standard input
(asked for, twice and without echo, when that is a terminal).

Options:
  --email E    the account's email address (its sign-in name)
  --name N     a display name
  --role R     one of ${ROLES.join(", ")}
  --json       print JSON instead of text (bootstrap and add: the account and any second factor)
  -h, --help   this help

Environment: ${PASSWORD_ENV} (the password, see above); DATABASE_URL (a PostgreSQL server, with
BLASTRADIUS_ENCRYPTION_KEY) or BLASTRADIUS_DATA (the embedded store's folder; not while
'blastradius serve' uses it).

Exit codes: 0 success, 1 the work failed (e.g. the store is in use), 2 bad usage or bad input (a
short password, an email already taken, a bootstrap when accounts exist).

Examples:
  blastradius user bootstrap --email you@example.com --name "You"      # asks for the password
  printf '%s\\n' "$PASS" | blastradius user add --email ana@example.com --role analyst
  ${PASSWORD_ENV}="$PASS" blastradius user add --email ops@example.com --role admin
  blastradius user list`;

const print = (line: string) => process.stdout.write(`${line}\n`);

/** The first line of a stream that is not a terminal (a pipe or a file), without its line end. */
async function firstLine(input: NodeJS.ReadStream): Promise<string> {
  input.setEncoding("utf8");
  let text = "";
  for await (const chunk of input) {
    text += chunk as string;
    if (text.includes("\n")) break;
  }
  return (text.split("\n")[0] ?? "").replace(/\r$/, "");
}

/** Asks on stderr and reads a line from the terminal without echoing it. */
function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const done = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    const onData = (text: string) => {
      for (const ch of text) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          done();
          resolve(value);
          return;
        }
        if (ch === "\u0003") {
          done();
          reject(usageError("cancelled"));
          return;
        }
        value = ch === "\u007f" || ch === "\b" ? [...value].slice(0, -1).join("") : value + ch;
      }
    };
    stdin.on("data", onData);
  });
}

/** From the environment, a pipe, or the terminal (twice); checked against the policy here. */
export async function readPassword(): Promise<string> {
  const where = `password (${PASSWORD_ENV} or standard input)`;
  let password = process.env[PASSWORD_ENV];
  if (!password) {
    if (process.stdin.isTTY) {
      password = await askHidden(`Password (at least ${MIN_PASSWORD_LENGTH} characters): `);
      checkPasswordPolicy(password, where);
      if ((await askHidden("Again: ")) !== password) throw badInput("the two passwords differ");
    } else {
      password = await firstLine(process.stdin);
    }
  }
  if (!password) {
    throw usageError(`no password: set ${PASSWORD_ENV} or write it as the first line of standard input`);
  }
  checkPasswordPolicy(password, where);
  return password;
}

function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw usageError(`--role must be one of ${ROLES.join(", ")} (got ${JSON.stringify(value)})`);
  }
  return value as Role;
}

function formatCreated(what: string, user: User, totp: TotpEnrollment | undefined): string {
  const lines = [`Created ${what} ${user.email} (${user.role}, id ${user.id}).`];
  if (totp) {
    lines.push(
      "Second factor: add it to an authenticator app now; it is not shown again.",
      `  secret: ${totp.secret}`,
      `  ${totp.otpauth_uri}`,
      "Sign in with the email, the password and the app's 6-digit code.",
    );
  }
  return lines.join("\n");
}

export const userCommand: Command = {
  name: "user",
  help,
  run: async (argv, config) => {
    const [sub, ...rest] = argv;
    if (sub === "bootstrap" || sub === "add") {
      const { values: o, positionals } = parseCommandLine(rest, {
        email: { type: "string" },
        name: { type: "string" },
        role: { type: "string" },
        json: { type: "boolean", default: false },
      });
      expectArguments(positionals, []);
      const email = normalizeEmail(requireOption(o.email, "--email E"), "--email");
      const displayName = o.name?.trim() || null;
      let role: Role = "admin";
      if (sub === "add") role = parseRole(requireOption(o.role, "--role R"));
      else if (o.role !== undefined && o.role !== "admin")
        throw usageError("--role: the first account is an admin; add others with 'blastradius user add'");
      const password = await readPassword();
      return withContext(config, async (ctx) => {
        let created: { user: User; totp?: TotpEnrollment };
        if (sub === "bootstrap") {
          const n = await countUsers(ctx);
          if (n > 0) {
            throw new AppError(
              "CONFLICT",
              `the first admin exists already (${n} account${n === 1 ? "" : "s"}): add accounts with 'blastradius user add'`,
            );
          }
          created = await bootstrapFirstAdmin(ctx, { email, displayName, password });
        } else {
          created = await createUser(ctx, cliActor, { email, displayName, role, password });
        }
        if (o.json) print(JSON.stringify(created, null, 2));
        else
          print(
            formatCreated(
              sub === "bootstrap" ? "the first admin" : "the account",
              created.user,
              created.totp,
            ),
          );
        return 0;
      });
    }
    if (sub === "list") {
      const { values: o, positionals } = parseCommandLine(rest, {
        json: { type: "boolean", default: false },
      });
      expectArguments(positionals, []);
      return withContext(config, async (ctx) => {
        const users = await listUsers(ctx, cliActor);
        if (o.json) print(JSON.stringify(users, null, 2));
        else if (users.length === 0)
          process.stderr.write("(no accounts yet: blastradius user bootstrap --email E)\n");
        else {
          for (const u of users) {
            print(
              [
                u.id,
                u.email,
                u.role.padEnd(9),
                u.totp_enabled ? "2fa" : "-  ",
                u.disabled ? "disabled" : "active  ",
                u.display_name ?? "",
              ].join("  "),
            );
          }
        }
        return 0;
      });
    }
    throw subcommandError(sub, SUBCOMMANDS);
  },
};
