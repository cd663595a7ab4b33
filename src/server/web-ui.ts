import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { App } from "./build-server.ts";

/** Where `npm run build:web` puts the UI (web/dist at the project's root). */
export const DEFAULT_WEB_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "web",
  "dist",
);

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>blastradius</title></head>
<body><h1>The web UI has not been built</h1><p>Run <code>npm run build:web</code> (or <code>npm install</code>,
which builds it) and restart the server. The API is available at <code>/api/v1</code>.</p></body></html>`;

/**
 * Serves the built single-page UI without adding routes: files under /assets/ (content-hashed, so
 * cached for good) and index.html for every other page address, so links into the app work. The
 * API's 404s stay JSON. Nothing here needs a session: the UI's data comes from the API, which does.
 */
export async function registerWebUi(
  app: App,
  webRoot: string,
): Promise<(request: FastifyRequest, reply: FastifyReply) => boolean> {
  const built = existsSync(path.join(webRoot, "index.html"));
  if (built) await app.register(fastifyStatic, { root: webRoot, serve: false, cacheControl: false });
  const assets = path.join(webRoot, "assets");

  /** Answers a request for the UI; false when the request is not for the UI (an API path, a POST). */
  return (request, reply) => {
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    let pathname: string;
    try {
      pathname = decodeURIComponent(request.url.split("?")[0] ?? "/");
    } catch {
      return false; // malformed escapes: the JSON 404
    }
    if (pathname.startsWith("/api/")) return false;
    if (!built) {
      reply.status(503).type("text/html; charset=utf-8").send(NOT_BUILT);
      return true;
    }
    if (pathname.startsWith("/assets/")) {
      const file = path.resolve(webRoot, `.${pathname}`);
      if (!file.startsWith(`${assets}${path.sep}`) || !isFile(file)) return false;
      reply.header("cache-control", "public, max-age=31536000, immutable");
      reply.sendFile(path.relative(webRoot, file));
      return true;
    }
    // A file name that is not there is a 404, not the app.
    if (path.extname(pathname) !== "") return false;
    reply.header("cache-control", "no-store");
    reply.type("text/html; charset=utf-8").sendFile("index.html");
    return true;
  };
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
