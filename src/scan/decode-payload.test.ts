import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import zlib from "node:zlib";
import LZString from "lz-string";
import {
  type CapturedRequest,
  type DecodedRequest,
  decodeRequest,
  parseMultipart,
} from "./decode-payload.ts";

const EMAIL = "Jane.Doe@Example.com";

function request(url: string, headers: Record<string, string> = {}, body?: string | Buffer): CapturedRequest {
  return { url, headers, body: body === undefined ? null : Buffer.from(body) };
}

/** The leaf with exactly this chain (steps joined with " > "). */
function leafAt(decoded: DecodedRequest, chain: string): string | undefined {
  return decoded.leaves.find((leaf) => leaf.chain.join(" > ") === chain)?.text;
}

function chainsOf(decoded: DecodedRequest, text: string): string[] {
  return decoded.leaves.filter((leaf) => leaf.text === text).map((leaf) => leaf.chain.join(" > "));
}

async function compress(text: string, format: "gzip" | "deflate" | "deflate-raw"): Promise<Buffer> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream(format));
  return Buffer.from(await new Response(stream).arrayBuffer());
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

function mixpanelBody(email: string): string {
  const events = [
    {
      event: "Signed up",
      properties: {
        $email: email,
        token: "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        mp_lib: "web",
        $lib_version: "2.55.1",
      },
    },
  ];
  return `data=${encodeURIComponent(b64(JSON.stringify(events)))}`;
}

describe("decodeRequest sources", () => {
  it("decodes query parameters, the path and the fragment", () => {
    const decoded = decodeRequest(
      request(
        "https://t.example/u/Jane%20Doe/collect?email=jane.doe%40example.com&uid=u-998877&v=1#ref=newsletter",
      ),
    );
    assert.equal(leafAt(decoded, "query:email"), "jane.doe@example.com");
    assert.equal(leafAt(decoded, "query:uid"), "u-998877");
    assert.equal(leafAt(decoded, "path"), "/u/Jane Doe/collect");
    assert.equal(leafAt(decoded, "fragment > form:ref"), "newsletter");
    assert.ok(decoded.keys.has("email") && decoded.keys.has("uid") && decoded.keys.has("ref"));
    assert.equal(decoded.truncated, false);
  });

  it("keeps a raw + in a query value as well as reading it as a space", () => {
    const decoded = decodeRequest(request("https://t.example/p?em=jane+tag@example.com"));
    const values = decoded.leaves.filter((l) => l.chain.join() === "query:em").map((l) => l.text);
    assert.deepEqual(values.sort(), ["jane tag@example.com", "jane+tag@example.com"]);
  });

  it("decodes a base64 path segment", () => {
    const segment = Buffer.from(JSON.stringify({ email: EMAIL })).toString("base64url");
    const decoded = decodeRequest(request(`https://t.example/i/${segment}/pixel.gif`));
    assert.equal(leafAt(decoded, "path > base64 > json:email"), EMAIL);
  });

  it("decodes each cookie, percent-encoded JSON included", () => {
    const cookie = `mp_abc_mixpanel=${encodeURIComponent(JSON.stringify({ distinct_id: EMAIL }))}; _ga=GA1.1.123456.789; sid="quoted-value"`;
    const decoded = decodeRequest(request("https://t.example/", { cookie }));
    assert.equal(leafAt(decoded, "cookie:mp_abc_mixpanel > url-decoded > json:distinct_id"), EMAIL);
    assert.equal(leafAt(decoded, "cookie:_ga"), "GA1.1.123456.789");
    assert.equal(leafAt(decoded, "cookie:sid"), "quoted-value");
  });

  it("decodes the referer and non-standard headers but not standard ones", () => {
    const decoded = decodeRequest(
      request("https://t.example/", {
        referer: "https://app.example.com/reset?email=jane.doe%40example.com",
        "user-agent": "Mozilla/5.0 jane.doe@example.com",
        "sec-ch-ua": '"Chromium";v="140"',
        "accept-language": "en-GB,en",
        "x-user-email": EMAIL,
        authorization: `Basic ${b64("writeKeyABC123:")}`,
      }),
    );
    assert.equal(leafAt(decoded, "header:referer > query:email"), "jane.doe@example.com");
    assert.equal(
      leafAt(decoded, "header:referer"),
      "https://app.example.com/reset?email=jane.doe%40example.com",
    );
    assert.equal(leafAt(decoded, "header:x-user-email"), EMAIL);
    assert.equal(leafAt(decoded, "header:authorization > base64"), "writeKeyABC123:");
    assert.ok(!decoded.leaves.some((l) => /user-agent|sec-ch-ua|accept/.test(l.chain.join())));
  });
});

describe("decodeRequest bodies", () => {
  it("decodes a Mixpanel form body: form → base64 → JSON", () => {
    const decoded = decodeRequest(
      request(
        "https://api-js.mixpanel.com/track/?verbose=1",
        { "content-type": "application/x-www-form-urlencoded" },
        mixpanelBody(EMAIL),
      ),
    );
    assert.deepEqual(chainsOf(decoded, EMAIL), ["body > form:data > base64 > json:[0].properties.$email"]);
    assert.equal(leafAt(decoded, "body > form:data > base64 > json:[0].event"), "Signed up");
    // Every intermediate string is a leaf too.
    assert.ok(leafAt(decoded, "body")?.startsWith("data="));
    assert.ok(leafAt(decoded, "body > form:data > base64")?.includes(EMAIL));
    for (const key of [
      "verbose",
      "data",
      "event",
      "properties",
      "$email",
      "token",
      "mp_lib",
      "$lib_version",
    ]) {
      assert.ok(decoded.keys.has(key), key);
    }
  });

  it("parses a form body by its Content-Type even with spaces, and not when it is only base64", () => {
    const form = { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" };
    const loose = decodeRequest(
      request("https://t.example/", form, "note=hello there&em=jane%40example.com"),
    );
    assert.equal(leafAt(loose, "body > form:em"), "jane@example.com");
    assert.equal(leafAt(loose, "body > form:note"), "hello there");
    const encoded = b64(JSON.stringify({ email: EMAIL }));
    assert.match(encoded, /=$/, "precondition: padded");
    const bare = decodeRequest(request("https://t.example/", form, encoded));
    assert.deepEqual(chainsOf(bare, EMAIL), ["body > base64 > json:email"]);
  });

  it("writes JSON paths with dots, indices and bracketed odd keys", () => {
    const body = JSON.stringify({
      events: [{ user_properties: { email: EMAIL } }],
      batch: [{}, {}, { traits: { email: EMAIL } }],
      "a.b": { "": "value-under-empty-key" },
    }).replace(/}$/, ',"big":4915112345678901234}');
    const decoded = decodeRequest(
      request("https://t.example/", { "content-type": "application/json" }, body),
    );
    assert.deepEqual(chainsOf(decoded, EMAIL).sort(), [
      "body > json:batch[2].traits.email",
      "body > json:events[0].user_properties.email",
    ]);
    assert.equal(leafAt(decoded, 'body > json:["a.b"][""]'), "value-under-empty-key");
    assert.equal(
      leafAt(decoded, "body > json:big"),
      "4915112345678901234",
      "large numbers keep their digits",
    );
  });

  it("decodes a gzip body made by CompressionStream", async () => {
    const json = JSON.stringify({ events: [{ user_properties: { email: EMAIL } }] });
    const decoded = decodeRequest(request("https://t.example/", {}, await compress(json, "gzip")));
    assert.deepEqual(chainsOf(decoded, EMAIL), ["body > gzip > json:events[0].user_properties.email"]);
  });

  it("decodes a deflate (zlib) body and a node zlib stream", async () => {
    const json = JSON.stringify({ usr: { email: EMAIL } });
    const fromBrowser = decodeRequest(request("https://t.example/", {}, await compress(json, "deflate")));
    assert.deepEqual(chainsOf(fromBrowser, EMAIL), ["body > deflate > json:usr.email"]);
    const fromNode = decodeRequest(request("https://t.example/", {}, zlib.deflateSync(json, { level: 9 })));
    assert.deepEqual(chainsOf(fromNode, EMAIL), ["body > deflate > json:usr.email"]);
  });

  it("decodes a deflate-raw body when it inflates to JSON or the headers say so", async () => {
    const json = JSON.stringify({ usr: { email: EMAIL } });
    const raw = await compress(json, "deflate-raw");
    const unlabelled = decodeRequest(request("https://t.example/", {}, raw));
    assert.deepEqual(chainsOf(unlabelled, EMAIL), ["body > deflate-raw > json:usr.email"]);
    const text = await compress("plain text with jane.doe@example.com in it", "deflate-raw");
    const notJson = decodeRequest(request("https://t.example/", {}, text));
    assert.ok(!notJson.leaves.some((l) => l.chain[0] === "body"), "binary that is not JSON is no leaf");
    const labelled = decodeRequest(request("https://t.example/", { "content-encoding": "deflate" }, text));
    assert.equal(leafAt(labelled, "body > deflate-raw"), "plain text with jane.doe@example.com in it");
  });

  it("decodes a PostHog lz64 form body", () => {
    const batch = [{ event: "$identify", properties: { $lib: "web", $set: { email: EMAIL } } }];
    const body = `data=${encodeURIComponent(LZString.compressToBase64(JSON.stringify(batch)))}&compression=lz64`;
    const decoded = decodeRequest(
      request("https://eu.i.posthog.com/e/", { "content-type": "application/x-www-form-urlencoded" }, body),
    );
    assert.deepEqual(chainsOf(decoded, EMAIL), [
      "body > form:data > lz-string:base64 > json:[0].properties.$set.email",
    ]);
    assert.ok(decoded.keys.has("$lib") && decoded.keys.has("compression"));
  });

  it("decodes lz-string URI and UTF-16 payloads", () => {
    const json = JSON.stringify({ email: EMAIL });
    const compressed = LZString.compressToEncodedURIComponent(json);
    assert.notEqual(compressed.length % 4, 0, "precondition: unpadded, so not lz-string's base64 form");
    const uri = decodeRequest(request(`https://t.example/c?d=${compressed}`));
    assert.deepEqual(chainsOf(uri, EMAIL), ["query:d > lz-string:uri > json:email"]);
    const utf16 = decodeRequest(request("https://t.example/", {}, LZString.compressToUTF16(json)));
    assert.deepEqual(chainsOf(utf16, EMAIL), ["body > lz-string:utf16 > json:email"]);
  });

  it("decodes multipart parts by name and skips binary parts", () => {
    const boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x01,
    ]);
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="event"\r\nContent-Type: application/json\r\n\r\n` +
          `${JSON.stringify({ user: { email: EMAIL } })}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="writeKey"\r\n\r\nwk_live_12345\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
      ),
      png,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const decoded = decodeRequest(
      request("https://t.example/", { "content-type": `multipart/form-data; boundary=${boundary}` }, body),
    );
    assert.deepEqual(chainsOf(decoded, EMAIL), ["body > multipart:event > json:user.email"]);
    assert.equal(leafAt(decoded, "body > multipart:writeKey"), "wk_live_12345");
    assert.ok(!decoded.leaves.some((l) => l.chain.includes("multipart:file")), "binary part is no leaf");
    assert.ok(decoded.keys.has("event") && decoded.keys.has("writeKey") && decoded.keys.has("file"));
    const parts = parseMultipart(body, boundary);
    assert.deepEqual(
      parts.map((p) => p.name),
      ["event", "writeKey", "file"],
    );
    assert.deepEqual(parts[2]?.data, png);
  });

  it("decodes newline-delimited JSON (Datadog RUM)", () => {
    const body = [
      JSON.stringify({ type: "view", view: { url: "https://app.example.com/" } }),
      JSON.stringify({ type: "action", usr: { email: EMAIL, id: "u-42" } }),
      "",
    ].join("\n");
    const decoded = decodeRequest(request("https://browser-intake-datadoghq.eu/api/v2/rum", {}, body));
    assert.deepEqual(chainsOf(decoded, EMAIL), ["body > json-lines[1] > json:usr.email"]);
    assert.equal(leafAt(decoded, "body > json-lines[0] > json:view.url"), "https://app.example.com/");
    assert.equal(leafAt(decoded, "body > json-lines[1]"), body.split("\n")[1]);
    assert.ok(decoded.keys.has("usr") && decoded.keys.has("view"));
  });

  it("decodes base64url in a query parameter and names it base64url", () => {
    const json = JSON.stringify({ email: EMAIL, note: "~~~???>>>" });
    const encoded = Buffer.from(json).toString("base64url");
    assert.match(encoded, /[-_]/, "precondition: differs from base64");
    const decoded = decodeRequest(request(`https://t.example/p?p=${encoded}`));
    assert.deepEqual(chainsOf(decoded, EMAIL), ["query:p > base64url > json:email"]);
  });

  it("decodes three nested layers", () => {
    const inner = JSON.stringify({ email: EMAIL });
    const query = b64(zlib.gzipSync(inner));
    const viaQuery = decodeRequest(request(`https://t.example/c?d=${encodeURIComponent(query)}`));
    assert.deepEqual(chainsOf(viaQuery, EMAIL), ["query:d > base64 > gzip > json:email"]);

    const outer = JSON.stringify({ inner: b64(inner), kind: "nested" });
    const viaForm = decodeRequest(
      request("https://t.example/", {}, `payload=${encodeURIComponent(b64(outer))}`),
    );
    assert.deepEqual(chainsOf(viaForm, EMAIL), [
      "body > form:payload > base64 > json:inner > base64 > json:email",
    ]);
  });

  it("stops transforming at maxDepth", () => {
    let wrapped = JSON.stringify({ email: EMAIL });
    for (let i = 0; i < 5; i++) wrapped = b64(wrapped);
    const shallow = decodeRequest(request(`https://t.example/?x=${encodeURIComponent(wrapped)}`));
    assert.deepEqual(chainsOf(shallow, EMAIL), []);
    assert.equal(shallow.truncated, false);
    const deep = decodeRequest(request(`https://t.example/?x=${encodeURIComponent(wrapped)}`), {
      maxDepth: 5,
    });
    assert.deepEqual(chainsOf(deep, EMAIL), [
      `query:x > ${Array(5).fill("base64").join(" > ")} > json:email`,
    ]);
  });

  it("treats an unstructured text body as one leaf", () => {
    const decoded = decodeRequest(
      request("https://t.example/", { "content-type": "text/plain" }, "hello jane"),
    );
    assert.deepEqual(chainsOf(decoded, "hello jane"), ["body"]);
  });
});

describe("decodeRequest safety", () => {
  it("does not turn tokens, digests and ids into garbage leaves", () => {
    const tokens = {
      id: "9f1c2a7e-4b3d-4e5f-8a9b-0c1d2e3f4a5b",
      hash: "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
      ulid: "01HF8ZK3Q9X7M2N4P6R8T0V2W4",
      word: "pageview",
      ts: "1712345678901",
      session: "sess_Zx81Lq0PaBv93Kd",
    };
    const decoded = decodeRequest(request("https://t.example/", {}, JSON.stringify(tokens)));
    const deeper = decoded.leaves.filter((l) => l.chain.length > 2);
    assert.deepEqual(deeper, []);
  });

  it("never throws on malformed input", () => {
    const gzip = zlib.gzipSync(JSON.stringify({ email: EMAIL }));
    const bad: CapturedRequest[] = [
      request("not a url", { cookie: "=;;a;b=%E0%A4%A" }, '{"unterminated'),
      request("https://t.example/?a=%E0%A4%A&b=%&c=%zz", {}, gzip.subarray(0, gzip.length - 12)),
      request("https://t.example/", {}, Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3])),
      request("https://t.example/", {}, Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff])),
      request("https://t.example/", {}, Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1])),
      request("https://t.example/", { "content-encoding": "br" }, randomBytes(300)),
      request("https://t.example/", { "content-encoding": "deflate" }, randomBytes(300)),
      request(
        "https://t.example/",
        { "content-type": "multipart/form-data; boundary=xyz" },
        "--xyz\r\nbroken",
      ),
      request("https://t.example/", { "content-type": "multipart/form-data" }, "no boundary at all"),
      request("https://t.example/", {}, `data=${"A".repeat(64)}==&x=${"[".repeat(5000)}`),
      request("https://t.example/", {}, `${"[".repeat(100_000)}${"]".repeat(100_000)}`),
      request("https://t.example/", {}, '{"a":1}\n{broken\n'),
      request("https://t.example/", {}, `${LZString.compressToBase64("x").slice(0, 3)}!!!!!`),
    ];
    for (let i = 0; i < 40; i++) bad.push(request("https://t.example/", {}, randomBytes(64 + i * 7)));
    for (const req of bad) {
      const decoded = decodeRequest(req);
      assert.ok(Array.isArray(decoded.leaves));
      for (const leaf of decoded.leaves) assert.ok(leaf.text.length >= 4 && leaf.chain.length > 0);
    }
    const gzipGarbage = decodeRequest(bad[2] as CapturedRequest);
    assert.ok(!gzipGarbage.leaves.some((l) => l.chain[0] === "body"));
  });

  it("caps decompressed bytes and sets truncated", () => {
    const bomb = zlib.gzipSync(JSON.stringify({ filler: "a".repeat(2_000_000), email: EMAIL }));
    const capped = decodeRequest(request("https://t.example/", {}, bomb), { maxBytes: 100_000 });
    assert.equal(capped.truncated, true);
    assert.deepEqual(chainsOf(capped, EMAIL), []);
    const roomy = decodeRequest(request("https://t.example/", {}, bomb));
    assert.equal(roomy.truncated, false);
    assert.deepEqual(chainsOf(roomy, EMAIL), ["body > gzip > json:email"]);
  });

  it("caps the number of leaves and sets truncated", () => {
    const body = JSON.stringify(Array.from({ length: 100 }, (_, i) => `value-${i}`));
    const capped = decodeRequest(request("https://t.example/", {}, body), { maxLeaves: 10 });
    assert.equal(capped.leaves.length, 10);
    assert.equal(capped.truncated, true);
    const full = decodeRequest(request("https://t.example/", {}, body));
    assert.equal(full.leaves.length, 101, "the body and its 100 items (the path / is too short)");
    assert.equal(full.truncated, false);
  });

  it("collects keys from every layer", () => {
    const inner = b64(JSON.stringify({ traits: { email: EMAIL }, writeKey: "wk" }));
    const body = JSON.stringify({
      batch: [{ context: { library: { name: "analytics.js" } } }],
      payload: `blob=${inner}`,
    });
    const decoded = decodeRequest(request("https://first-party.example/a?sdk=seg", {}, body));
    for (const key of [
      "sdk",
      "batch",
      "context",
      "library",
      "name",
      "payload",
      "blob",
      "traits",
      "email",
      "writeKey",
    ]) {
      assert.ok(decoded.keys.has(key), key);
    }
    assert.equal(leafAt(decoded, "body > json:payload > form:blob > base64 > json:traits.email"), EMAIL);
  });
});
