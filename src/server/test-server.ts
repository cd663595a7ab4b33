import type { Context } from "../app/context.ts";
import { openContext } from "../app/open-context.ts";
import { createUser } from "../auth/accounts.ts";
import { cliActor, type Role } from "../auth/roles.ts";
import { signIn } from "../auth/sessions.ts";
import { totpCode } from "../auth/totp.ts";
import { loadConfig } from "../config/env.ts";
import { tempDir } from "../lib/test-fixtures.ts";
import { buildServer, type RouteInfo } from "./build-server.ts";

/** A real server on a loopback port over a PGlite store in a temp folder, for API tests. */
export type TestServer = {
  ctx: Context;
  url: string;
  routeTable: RouteInfo[];
  /** a new account with this role, signed in: its cookie and CSRF token */
  session(role: Role): Promise<Session>;
  close(): Promise<void>;
};

export type Session = { userId: string; email: string; cookie: string; csrf: string; totpSecret?: string };

let serial = 0;

export async function startTestServer(
  env: Record<string, string> = {},
  options: { authRateLimit?: number; webRoot?: string } = {},
): Promise<TestServer> {
  const dir = await tempDir("blastradius-api-");
  const config = loadConfig({
    BLASTRADIUS_DATA: dir,
    BLASTRADIUS_MEMORY_LIMIT: "1GB",
    BLASTRADIUS_THREADS: "2",
    PORT: "0",
    ...env,
  });
  const ctx = await openContext(config);
  const app = await buildServer(ctx, {
    bootstrapCode: () => null,
    onBootstrapped: () => {},
    authRateLimit: options.authRateLimit ?? 10_000,
    log: () => {},
    webRoot: options.webRoot,
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return {
    ctx,
    url,
    routeTable: app.routeTable,
    session: async (role) => {
      const email = `${role}-${++serial}-${process.pid}@staff.example`;
      const password = "a long enough passphrase";
      const created = await createUser(ctx, cliActor, { email, role, password });
      const s = await signIn(ctx, {
        email,
        password,
        totp: created.totp ? totpCode(created.totp.secret) : undefined,
      });
      return {
        userId: created.user.id,
        email,
        cookie: `blastradius_session=${s.token}`,
        csrf: s.csrf_token,
        totpSecret: created.totp?.secret,
      };
    },
    close: async () => {
      await app.close();
      await ctx.close();
    },
  };
}
