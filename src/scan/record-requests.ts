import type { BrowserContext, CDPSession, Page, Request } from "playwright-core";

/**
 * Records every request a browser context makes, with its body and the headers really sent.
 *
 * The DevTools protocol is the main source, one session per page: it sees what Playwright's own
 * request events miss (beacons and keepalive fetches sent while a page unloads, bodies that are
 * Blobs or streams). Playwright's events add what no page session sees (requests from workers),
 * counted by method and URL so nothing is recorded twice.
 */

export type RecordedRequest = {
  url: string;
  method: string;
  resourceType: string;
  /** Lower-case names; includes the cookie header the browser really sent. */
  headers: Record<string, string>;
  body: Buffer | null;
  /** The page (top document) that was showing when the request was made. */
  page: string;
  /** Why the request got no response (blocked, refused, cancelled), or null. */
  failure: string | null;
};

const MAX_BODY = 8 * 1024 * 1024;

const lowerCase = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));

const isHttp = (url: string) => url.startsWith("http:") || url.startsWith("https:");

export class RequestRecorder {
  readonly #fromPages: RecordedRequest[] = [];
  readonly #fromContext: { request: Request; record: RecordedRequest }[] = [];
  readonly #work: Promise<unknown>[] = [];
  readonly #watched = new WeakSet<Page>();
  readonly #currentPage: () => string;
  /** When the last request started; the scan waits for quiet before leaving a page. */
  lastRequestAt = Date.now();

  constructor(currentPage: () => string) {
    this.#currentPage = currentPage;
  }

  watchContext(context: BrowserContext): void {
    context.on("request", (request) => {
      this.lastRequestAt = Date.now();
      if (!isHttp(request.url()) || request.method() === "OPTIONS") return;
      const record: RecordedRequest = {
        url: request.url(),
        method: request.method(),
        resourceType: request.resourceType(),
        headers: request.headers(),
        body: request.postDataBuffer(),
        page: this.#currentPage(),
        failure: null,
      };
      this.#fromContext.push({ request, record });
      this.#work.push(
        request
          .allHeaders()
          .then((h) => {
            record.headers = h;
          })
          .catch(() => undefined),
      );
    });
    context.on("requestfailed", (request) => {
      const entry = this.#fromContext.find((e) => e.request === request);
      if (entry) entry.record.failure = request.failure()?.errorText ?? "failed";
    });
  }

  async watchPage(context: BrowserContext, page: Page): Promise<void> {
    if (this.#watched.has(page)) return;
    this.#watched.add(page);
    let cdp: CDPSession;
    try {
      cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable", { maxPostDataSize: MAX_BODY });
    } catch {
      return; // a page that closed at once
    }
    const byId = new Map<string, RecordedRequest>();
    const extraHeaders = new Map<string, Record<string, string>>();
    cdp.on("Network.requestWillBeSent", (event) => {
      this.lastRequestAt = Date.now();
      const { request, requestId } = event;
      if (!isHttp(request.url) || request.method === "OPTIONS") return;
      const inline = request.postDataEntries
        ?.map((e) => (e.bytes ? Buffer.from(e.bytes, "base64") : Buffer.alloc(0)))
        .filter((b) => b.length > 0);
      const record: RecordedRequest = {
        url: request.url,
        method: request.method,
        resourceType: (event.type ?? "Other").toLowerCase(),
        headers: { ...lowerCase(request.headers), ...(extraHeaders.get(requestId) ?? {}) },
        body: inline && inline.length > 0 ? Buffer.concat(inline) : null,
        page: this.#currentPage(),
        failure: null,
      };
      // A redirect reuses the id: the new hop is its own request.
      byId.set(requestId, record);
      this.#fromPages.push(record);
      if (request.hasPostData && record.body === null) {
        this.#work.push(
          cdp
            .send("Network.getRequestPostData", { requestId })
            .then((r) => {
              record.body = Buffer.from(r.postData, r.base64Encoded ? "base64" : "utf8");
            })
            .catch(() => undefined),
        );
      }
    });
    // What the network stack really sent (cookies among it) arrives separately, before or after.
    cdp.on("Network.requestWillBeSentExtraInfo", (event) => {
      const headers = lowerCase(event.headers);
      const record = byId.get(event.requestId);
      if (record) record.headers = { ...record.headers, ...headers };
      else extraHeaders.set(event.requestId, headers);
    });
    cdp.on("Network.loadingFailed", (event) => {
      const record = byId.get(event.requestId);
      if (record && !event.canceled) record.failure = event.errorText;
      else if (record) record.failure = event.errorText || "cancelled";
    });
  }

  /** Everything recorded, once pending bodies and headers have arrived. */
  async requests(): Promise<RecordedRequest[]> {
    await Promise.all(this.#work);
    const seen = new Map<string, number>();
    for (const r of this.#fromPages)
      seen.set(`${r.method} ${r.url}`, (seen.get(`${r.method} ${r.url}`) ?? 0) + 1);
    const extra: RecordedRequest[] = [];
    for (const { record } of this.#fromContext) {
      const key = `${record.method} ${record.url}`;
      const left = seen.get(key) ?? 0;
      if (left > 0) seen.set(key, left - 1);
      else extra.push(record);
    }
    return [...this.#fromPages, ...extra];
  }
}
