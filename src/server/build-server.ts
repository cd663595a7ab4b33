import cookie from "@fastify/cookie";
import helmet from "@fastify/helmet";
import multipart from "@fastify/multipart";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Context } from "../app/context.ts";
import type { Role } from "../auth/roles.ts";
import { AppError, httpStatusFor } from "../lib/errors.ts";
import { authenticate } from "./authenticate.ts";
import { accountRoutes } from "./routes/account-routes.ts";
import { analysisRoutes } from "./routes/analysis-routes.ts";
import { auditRoutes } from "./routes/audit-routes.ts";
import { campaignRoutes } from "./routes/campaign-routes.ts";
import { datasetRoutes } from "./routes/dataset-routes.ts";
import { filingRoutes } from "./routes/filing-routes.ts";
import { incidentRoutes } from "./routes/incident-routes.ts";
import { questionnaireRoutes } from "./routes/questionnaire-routes.ts";
import { reportRoutes } from "./routes/report-routes.ts";
import { vendorReviewRoutes } from "./routes/vendor-review-routes.ts";
import { vendorRoutes } from "./routes/vendor-routes.ts";
import { verifyEmailRoutes } from "./routes/verify-email-routes.ts";
import { DEFAULT_WEB_ROOT, registerWebUi } from "./web-ui.ts";

export type ServerOptions = {
  /** the one-time code that lets the first admin be created; null once an account exists */
  bootstrapCode: () => string | null;
  onBootstrapped: () => void;
  /** requests per minute per client on sign-in, bootstrap and token routes */
  authRateLimit?: number;
  log?: (line: string) => void;
  /** the built web UI (default: web/dist) */
  webRoot?: string;
};

export type RouteInfo = { method: string; url: string; role: Role | "public" };

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

const JSON_BODY_LIMIT = 1024 * 1024;

/**
 * The HTTP transport: parse, authenticate, call a use case, format. Every route declares the least
 * role it needs (checked here and again in the use case) and its schemas, which also make the
 * OpenAPI document at /api/v1/openapi.json.
 */
export async function buildServer(
  ctx: Context,
  options: ServerOptions,
): Promise<App & { routeTable: RouteInfo[] }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const app = Fastify({
    // URLs and bodies may hold personal data, so nothing is logged per request.
    logger: false,
    bodyLimit: JSON_BODY_LIMIT,
    trustProxy: ctx.config.trustProxy,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: true,
    referrerPolicy: { policy: "no-referrer" },
  });
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(multipart, {
    limits: { fileSize: ctx.config.maxUploadBytes, files: 1, fields: 5, fieldSize: JSON_BODY_LIMIT },
  });
  // bounce reports arrive as the raw message (POST /bounces)
  app.addContentTypeParser(
    ["message/rfc822", "message/global"],
    { parseAs: "buffer" },
    (_request, body, done) => done(null, body),
  );
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "blastradius API",
        version: "1",
        description:
          "Incident workspace: vendors, incidents with clocks, timeline and decisions, datasets, analyses and their results, audit log. Authenticate with a session cookie (plus the X-CSRF-Token header on changes) or `Authorization: Bearer <API token>`.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          session: { type: "apiKey", in: "cookie", name: "blastradius_session" },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  const routeTable: RouteInfo[] = [];
  app.addHook("onRoute", (r) => {
    for (const method of [r.method].flat()) {
      if (method !== "HEAD") routeTable.push({ method, url: r.url, role: r.config?.role ?? "admin" });
    }
  });
  app.addHook("onRequest", authenticate(ctx));
  app.addHook("onSend", async (_request, reply) => {
    // Responses carry personal data: never keep them in a cache along the way. (The UI's hashed
    // assets say otherwise for themselves.)
    if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
  });

  app.setErrorHandler((error, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? "request";
      const issues = error.validation
        .map((v) => `${where}${v.instancePath.replaceAll("/", ".")}: ${v.message}`)
        .join("; ");
      return reply.status(400).send({ error: { code: "USAGE", message: issues } });
    }
    if (error instanceof AppError) {
      return reply.status(httpStatusFor(error)).send({ error: { code: error.code, message: error.message } });
    }
    const e = error as { statusCode?: number; code?: string; message?: string };
    if (e.code === "FST_REQ_FILE_TOO_LARGE" || e.statusCode === 413) {
      return reply.status(413).send({
        error: {
          code: "TOO_LARGE",
          message: `the upload is larger than the limit of ${ctx.config.maxUploadBytes} bytes (BLASTRADIUS_MAX_UPLOAD)`,
        },
      });
    }
    if (e.statusCode === 429) {
      return reply
        .status(429)
        .send({ error: { code: "RATE_LIMITED", message: e.message ?? "too many requests" } });
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply
        .status(e.statusCode)
        .send({ error: { code: e.code ?? "BAD_REQUEST", message: e.message ?? "bad request" } });
    }
    // Unexpected: the message and where, never the request's content.
    log(`error on ${request.method} ${request.routeOptions.url ?? "?"}: ${e.message ?? String(error)}`);
    return reply
      .status(500)
      .send({ error: { code: "INTERNAL", message: "internal error; see the server log" } });
  });
  const serveWebUi = await registerWebUi(app, options.webRoot ?? DEFAULT_WEB_ROOT);
  app.setNotFoundHandler((request, reply) => {
    if (serveWebUi(request, reply)) return reply;
    return reply.status(404).send({
      error: { code: "NOT_FOUND", message: `no route ${request.method} ${request.url.split("?")[0]}` },
    });
  });

  const rate = { max: options.authRateLimit ?? 10, timeWindow: "1 minute" };
  await app.register(
    async (api) => {
      await accountRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx, { ...options, rate });
      await vendorRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      await vendorReviewRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      await questionnaireRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx, rate);
      await incidentRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      await datasetRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      await analysisRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      await campaignRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      await filingRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      await reportRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      await auditRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      await verifyEmailRoutes(api.withTypeProvider<ZodTypeProvider>(), ctx);
      api.get("/openapi.json", { config: { role: "public" }, schema: { hide: true } }, async () =>
        app.swagger(),
      );
    },
    { prefix: "/api/v1" },
  );
  return Object.assign(app, { routeTable });
}
