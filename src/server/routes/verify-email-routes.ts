import { z } from "zod";
import type { Context } from "../../app/context.ts";
import { AppError, usageError } from "../../lib/errors.ts";
import {
  cacheResolver,
  type DnsResolver,
  loadDnsCache,
  systemResolver,
} from "../../phishing/verify-email/dns-cache.ts";
import { parseOfficialDomains } from "../../phishing/verify-email/domains.ts";
import { REASON_SEVERITY } from "../../phishing/verify-email/verdict.ts";
import { verifyMessage } from "../../phishing/verify-email/verify-message.ts";
import type { App } from "../build-server.ts";

/**
 * POST /api/v1/verify-email: the public "is this message really from us?" check behind the /verify
 * page. No session: anyone who received a message may ask. The raw message comes as the body
 * (text/plain or message/rfc822) or as JSON {message}; the answer is the verdict. Nothing is stored
 * and nothing is logged: the server logs no request bodies, and this route writes nowhere.
 */

/** The largest message accepted: real notices are far smaller; attachments make a message bigger. */
export const VERIFY_BODY_LIMIT = 2 * 1024 * 1024;

/** Checks per client address per minute: the check costs DNS questions and some CPU. */
export const VERIFY_RATE = { max: 20, timeWindow: "1 minute" } as const;

const severity = z.enum(["suspicious", "phishing"]);

const verifyResult = z
  .object({
    verdict: z.enum(["authentic", "suspicious", "phishing"]),
    summary: z.string(),
    reasons: z.array(
      z.object({
        code: z.enum(Object.keys(REASON_SEVERITY) as [keyof typeof REASON_SEVERITY]),
        severity,
        message: z.string(),
      }),
    ),
    from: z.object({ name: z.string(), address: z.string(), domain: z.string() }).nullable(),
    auth: z.object({
      dkim: z.object({
        result: z.string(),
        signatures: z.array(
          z.object({
            domain: z.string(),
            selector: z.string().nullable(),
            result: z.string(),
            aligned: z.boolean(),
            comment: z.string().nullable(),
          }),
        ),
      }),
      spf: z.object({
        result: z.string(),
        domain: z.string().nullable(),
        client_ip: z.string().nullable(),
        helo: z.string().nullable(),
        comment: z.string().nullable(),
      }),
      dmarc: z.object({
        result: z.string(),
        domain: z.string().nullable(),
        policy: z.string().nullable(),
        aligned_dkim: z.string().nullable(),
        aligned_spf: z.string().nullable(),
        comment: z.string().nullable(),
      }),
      arc: z.object({ result: z.string(), comment: z.string().nullable() }),
    }),
  })
  .meta({ id: "EmailVerdict" });

/** The server is not set up for the check: 503 with what to set, for the page to show. */
class NotConfigured extends Error {}

function rawMessage(body: unknown): Buffer | string {
  if (Buffer.isBuffer(body) || typeof body === "string") {
    if (body.length === 0) throw usageError("body: empty; send the raw message");
    return body;
  }
  const message = (body as { message?: unknown } | null)?.message;
  if (typeof message === "string" && message !== "") return message;
  throw usageError('body: send the raw message as text/plain or message/rfc822, or JSON {"message": "..."}');
}

async function resolverFor(ctx: Pick<Context, "config">): Promise<DnsResolver> {
  const file = ctx.config.dnsCacheFile;
  if (!file) return systemResolver;
  try {
    return cacheResolver(await loadDnsCache(file, "BLASTRADIUS_DNS_CACHE"));
  } catch {
    // the file's path stays on the server
    throw new NotConfigured(
      "the server's DNS cache file (BLASTRADIUS_DNS_CACHE) cannot be read; its administrator must fix the setting",
    );
  }
}

function officialDomains(ctx: Pick<Context, "config">): string[] {
  if (ctx.config.officialDomains.length === 0) {
    throw new NotConfigured(
      "this server does not know its official domains: its administrator must set BLASTRADIUS_OFFICIAL_DOMAINS (comma-separated, such as example.com,example.org) and restart it",
    );
  }
  try {
    return parseOfficialDomains(ctx.config.officialDomains, "BLASTRADIUS_OFFICIAL_DOMAINS");
  } catch (error) {
    throw new NotConfigured(`the server's setting is wrong: ${(error as Error).message}`);
  }
}

export async function verifyEmailRoutes(
  app: App,
  ctx: Pick<Context, "config">,
  options: { rate?: { max: number; timeWindow: string } } = {},
): Promise<void> {
  // Its own scope, for its own answer to a body over the limit (the server-wide one names the upload
  // setting); every other error goes on to the server's handler.
  await app.register(async (scope) => {
    scope.setErrorHandler((error, _request, reply) => {
      if (error instanceof NotConfigured) {
        return reply.status(503).send({ error: { code: "NOT_CONFIGURED", message: error.message } });
      }
      if ((error as { statusCode?: number }).statusCode === 413) {
        return reply.status(413).send({
          error: {
            code: "TOO_LARGE",
            message: `the message is larger than ${VERIFY_BODY_LIMIT / 1024 / 1024} MB; leave out its attachments`,
          },
        });
      }
      throw error;
    });

    scope.post(
      "/verify-email",
      {
        bodyLimit: VERIFY_BODY_LIMIT,
        config: { role: "public", rateLimit: options.rate ?? VERIFY_RATE },
        schema: {
          tags: ["phishing"],
          summary: "Is this message really from us? The verdict on a raw email message (no sign-in)",
          description: `The raw message (RFC 5322, with its headers) as text/plain or message/rfc822, or JSON {"message": "..."}; at most ${VERIFY_BODY_LIMIT} bytes, ${VERIFY_RATE.max} checks a minute per client. DKIM, SPF for the topmost Received header, DMARC with alignment and ARC, then the sender, Reply-To and links against BLASTRADIUS_OFFICIAL_DOMAINS and their lookalikes. Nothing is stored. 503 NOT_CONFIGURED when the server has no official domains.`,
          security: [],
          response: { 200: verifyResult },
        },
      },
      async (request) => {
        const message = rawMessage(request.body);
        const domains = officialDomains(ctx);
        const resolver = await resolverFor(ctx);
        try {
          return await verifyMessage(message, {
            officialDomains: domains,
            officialDomainsFrom: "BLASTRADIUS_OFFICIAL_DOMAINS",
            resolver,
          });
        } catch (error) {
          if (error instanceof AppError) throw error;
          // never the message's content in an error that may reach a log
          throw new AppError("WORK_FAILED", "the message could not be checked");
        }
      },
    );
  });
}
