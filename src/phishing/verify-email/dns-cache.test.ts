import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../../lib/errors.ts";
import { put, tempDir } from "../../lib/test-fixtures.ts";
import { cacheResolver, loadDnsCache, parseDnsCache } from "./dns-cache.ts";

const dnsError = (code: string) => (e: unknown) => (e as { code?: string }).code === code;
const badInput = (pattern: RegExp) => (e: unknown) =>
  e instanceof AppError && e.code === "BAD_INPUT" && pattern.test(e.message);

describe("the DNS cache resolver", () => {
  const cache = parseDnsCache(
    {
      "Example.COM.": { TXT: [["v=spf1 ", "-all"]], MX: [{ exchange: "mx.example.com", priority: 10 }] },
      "_dmarc.example.com": { txt: [["v=DMARC1; p=reject"]] },
    },
    "test",
  );
  const resolve = cacheResolver(cache);

  it("answers from the cache whatever the case of names and types, and with or without the root dot", async () => {
    assert.deepEqual(await resolve("example.com", "TXT"), [["v=spf1 ", "-all"]]);
    assert.deepEqual(await resolve("EXAMPLE.com.", "MX"), [{ exchange: "mx.example.com", priority: 10 }]);
    assert.deepEqual(await resolve("_dmarc.example.com", "TXT"), [["v=DMARC1; p=reject"]]);
  });

  it("answers ENOTFOUND for a name it does not hold, and ENODATA for a type it does not hold, never the network", async () => {
    // names that exist in real DNS: a resolver that went to the network would answer them
    await assert.rejects(resolve("iana.org", "A"), dnsError("ENOTFOUND"));
    await assert.rejects(resolve("_dmarc.iana.org", "TXT"), dnsError("ENOTFOUND"));
    await assert.rejects(resolve("example.com", "A"), dnsError("ENODATA"));
  });

  it("gives each caller its own copy of the answers", async () => {
    const first = (await resolve("example.com", "TXT")) as string[][];
    first[0]?.push("changed");
    assert.deepEqual(await resolve("example.com", "TXT"), [["v=spf1 ", "-all"]]);
  });
});

describe("loadDnsCache", () => {
  it("reads mailauth's cache format from a file", async () => {
    const dir = await tempDir();
    const file = await put(dir, "dns.json", JSON.stringify({ "a.example": { TXT: [["x"]] } }));
    assert.deepEqual(await cacheResolver(await loadDnsCache(file))("a.example", "TXT"), [["x"]]);
  });

  it("names the option, the file and the entry at fault", async () => {
    const dir = await tempDir();
    await assert.rejects(
      loadDnsCache(`${dir}/nope.json`),
      badInput(/^--dns-cache .*nope\.json: no such file$/),
    );
    await assert.rejects(
      loadDnsCache(dir, "BLASTRADIUS_DNS_CACHE"),
      badInput(/^BLASTRADIUS_DNS_CACHE .*: is a folder/),
    );
    const notJson = await put(dir, "bad.json", "{ nope");
    await assert.rejects(loadDnsCache(notJson), badInput(/bad\.json: not valid JSON/));
    const list = await put(dir, "list.json", "[]");
    await assert.rejects(loadDnsCache(list), badInput(/list\.json: expected a JSON object of names/));
    const flat = await put(dir, "flat.json", JSON.stringify({ "a.example": "v=spf1 -all" }));
    await assert.rejects(loadDnsCache(flat), badInput(/"a\.example" must be an object of record types/));
    const txt = await put(dir, "txt.json", JSON.stringify({ "a.example": { TXT: ["v=spf1 -all"] } }));
    await assert.rejects(loadDnsCache(txt), badInput(/"a\.example" TXT must be an array of records/));
    const answers = await put(dir, "answers.json", JSON.stringify({ "a.example": { A: "192.0.2.1" } }));
    await assert.rejects(loadDnsCache(answers), badInput(/"a\.example" A must be an array of answers/));
  });
});
