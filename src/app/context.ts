import type { Config } from "../config/env.ts";
import type { Sealer } from "../lib/seal.ts";
import type { Db } from "../store/db.ts";

/**
 * What use cases may depend on. Each use case takes the narrowest Pick of this it needs, so tests
 * build only that, and the HTTP server, the CLI and the workers all pass the same thing.
 */
export type Context = Readonly<{
  config: Config;
  db: Db;
  /** seals personal data at rest (results, TOTP secrets) */
  sealer: Sealer;
  /** the same key, for sealed dataset files */
  key: Buffer;
}>;
