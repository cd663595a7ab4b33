import { rmSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { generate } from "selfsigned";
import { build } from "vite";

/**
 * The scanner's test app and its vendors, all on loopback: an app that signs a person in and shows
 * an account page wired to real vendor SDKs (browser/app.ts, bundled with Vite), and one HTTPS
 * "sink" that plays every vendor host the SDKs talk to, answering each the way its SDK needs to
 * carry on (settings, feature flags, CORS) and recording what arrived.
 */

export const TEST_IDENTITY = {
  user_id: "usr_7Qx4kP2m",
  email: "Dana.Whitfield@example-shop.test",
  name: "Dana Whitfield",
  org_id: "org_K9s3Lw",
  password: "correct horse battery staple",
} as const;

/** Every vendor host the test app's SDKs contact. */
export const VENDOR_HOSTS = [
  "api-js.mixpanel.com",
  "us.i.posthog.com",
  "us-assets.i.posthog.com",
  "cdn.segment.com",
  "api.segment.io",
  "browser-intake-datadoghq.com",
  "o4504.ingest.us.sentry.io",
  "www.facebook.com",
  "api2.amplitude.com",
] as const;

export type SinkRequest = { host: string; method: string; url: string; bytes: number };

export type TestApp = {
  /** The app's sign-in page. */
  url: string;
  /** `--map-host` values sending every vendor host to the sink. */
  mapHosts: string[];
  /** What the sink received (vendor host, method, path) and what the app's own /mp proxy received. */
  sink: SinkRequest[];
  proxied: SinkRequest[];
  close(): Promise<void>;
};

let bundle: Promise<string> | undefined;

/** Builds browser/app.ts once per process, into a folder removed when the process exits. */
function buildBundle(): Promise<string> {
  bundle ??= (async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), "blastradius-scan-app-"));
    process.once("exit", () => rmSync(outDir, { recursive: true, force: true }));
    await build({
      configFile: false,
      logLevel: "error",
      root: path.join(import.meta.dirname, "browser"),
      build: {
        outDir,
        emptyOutDir: true,
        minify: false,
        rollupOptions: {
          input: path.join(import.meta.dirname, "browser", "app.ts"),
          output: { entryFileNames: "app.js", format: "es" },
        },
      },
    });
    return outDir;
  })();
  return bundle;
}

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

const cookieValue = (req: IncomingMessage, name: string) =>
  (req.headers.cookie ?? "")
    .split(";")
    .map((c) => c.trim().split("="))
    .find(([k]) => k === name)?.[1];

function appHandler(assets: Promise<string>, proxied: SinkRequest[]) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://app.test");
    const body = await readBody(req);
    const signedIn = cookieValue(req, "session") === "s3ss10n";
    const html = (status: number, markup: string) => {
      res.writeHead(status, { "content-type": "text/html; charset=utf-8" }).end(markup);
    };
    if (url.pathname.startsWith("/mp/")) {
      proxied.push({ host: "app", method: req.method ?? "", url: url.pathname, bytes: body.length });
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":1}');
      return;
    }
    switch (url.pathname) {
      case "/":
      case "/login":
        return html(
          200,
          page(
            "Sign in",
            `<form method="post" action="/session"><label>Email <input name="email" type="email"></label>
             <label>Password <input name="password" type="password"></label><button>Sign in</button></form>
             <a href="/pricing">Pricing</a>`,
          ),
        );
      case "/pricing":
        return html(200, page("Pricing", `<h1>Pricing</h1><a href="/login">Sign in</a>`));
      case "/api/preferences":
        res.writeHead(200, { "content-type": "application/json" }).end('{"theme":"light"}');
        return;
      default:
        break;
    }
    if (url.pathname === "/app.js" || /^\/assets\/[\w.-]+\.js$/.test(url.pathname)) {
      const file = await readFile(path.join(await assets, url.pathname)).catch(() => null);
      if (file) res.writeHead(200, { "content-type": "text/javascript" }).end(file);
      else res.writeHead(404).end();
      return;
    }
    if (req.method === "POST" && url.pathname === "/session") {
      const form = new URLSearchParams(body.toString("utf8"));
      const ok =
        form.get("email")?.toLowerCase() === TEST_IDENTITY.email.toLowerCase() &&
        form.get("password") === TEST_IDENTITY.password;
      if (!ok) return html(401, page("Sign in", "<p>Wrong email or password</p>"));
      res.writeHead(303, { location: "/account", "set-cookie": "session=s3ss10n; Path=/; HttpOnly" }).end();
      return;
    }
    if (url.pathname === "/account" || url.pathname === "/settings") {
      if (!signedIn) {
        res.writeHead(303, { location: "/login" }).end();
        return;
      }
      const { password: _, ...me } = TEST_IDENTITY;
      return html(
        200,
        page(
          "Account",
          `<h1>Your account</h1><nav><a href="/account">Account</a> <a href="/settings">Settings</a> <a href="/pricing">Pricing</a></nav>
           <script id="me" type="application/json">${JSON.stringify(me)}</script>
           <script type="module" src="/app.js"></script>`,
        ),
      );
    }
    html(404, page("Not found", "<p>Not found</p>"));
  };
}

/** Answers each vendor the way its SDK needs in order to go on sending. */
function sinkHandler(received: SinkRequest[]) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "");
    const url = new URL(req.url ?? "/", `https://${host}`);
    const body = await readBody(req);
    const origin = req.headers.origin;
    const cors: Record<string, string> = origin
      ? {
          "access-control-allow-origin": origin,
          "access-control-allow-credentials": "true",
          "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "*",
          "access-control-allow-methods": "GET, POST, OPTIONS",
        }
      : {};
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors).end();
      return;
    }
    received.push({ host, method: req.method ?? "", url: url.pathname, bytes: body.length });
    const json = (value: unknown) => {
      res.writeHead(200, { ...cors, "content-type": "application/json" }).end(JSON.stringify(value));
    };
    if (host === "cdn.segment.com" && url.pathname.endsWith("/settings")) {
      return json({
        integrations: {
          "Segment.io": { apiKey: "seg-scanner-test", apiHost: "api.segment.io/v1", protocol: "https" },
        },
        plan: { track: { __default: { enabled: true } }, identify: { __default: { enabled: true } } },
        analyticsNextEnabled: true,
        middlewareSettings: {},
        enabledMiddleware: {},
        metrics: { sampleRate: 0 },
        remotePlugins: [],
      });
    }
    if (host === "us.i.posthog.com" && url.pathname.startsWith("/flags")) {
      return json({ featureFlags: {}, featureFlagPayloads: {}, errorsWhileComputingFlags: false });
    }
    if (host === "us-assets.i.posthog.com") {
      res.writeHead(404, cors).end();
      return;
    }
    if (host === "api-js.mixpanel.com") return json({ status: 1 });
    if (host === "www.facebook.com") {
      res
        .writeHead(200, { ...cors, "content-type": "image/gif" })
        .end(Buffer.from("R0lGODlhAQABAAAAACw=", "base64"));
      return;
    }
    json({});
  };
}

const listen = (server: http.Server | https.Server) =>
  new Promise<number>((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });

export async function startTestApp(): Promise<TestApp> {
  const sink: SinkRequest[] = [];
  const proxied: SinkRequest[] = [];
  const assets = buildBundle();
  assets.catch(() => undefined);
  const pems = await generate([{ name: "commonName", value: "scanner-test-sink" }], {
    keySize: 2048,
    algorithm: "sha256",
    extensions: [{ name: "subjectAltName", altNames: VENDOR_HOSTS.map((value) => ({ type: 2, value })) }],
  });
  const appServer = http.createServer((req, res) => {
    appHandler(assets, proxied)(req, res).catch(() => res.writeHead(500).end());
  });
  const sinkServer = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    sinkHandler(sink)(req, res).catch(() => res.writeHead(500).end());
  });
  const [appPort, sinkPort] = await Promise.all([listen(appServer), listen(sinkServer)]);
  await assets;
  const close = (server: http.Server | https.Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${appPort}/login`,
    mapHosts: VENDOR_HOSTS.map((host) => `${host}=127.0.0.1:${sinkPort}`),
    sink,
    proxied,
    close: async () => {
      await Promise.all([close(appServer), close(sinkServer)]);
    },
  };
}
