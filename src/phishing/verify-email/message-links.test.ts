import assert from "node:assert/strict";
import { describe, it } from "node:test";
import PostalMime from "postal-mime";
import {
  decodeEntities,
  htmlLinks,
  MAX_LINKS,
  messageLinks,
  shownHost,
  targetHost,
  textLinks,
} from "./message-links.ts";

const pairs = (html: string) => htmlLinks(html).map((l) => [l.host, l.text, l.shownHost]);

describe("htmlLinks", () => {
  it("reads each anchor's target host, its text and the domain the text shows", () => {
    assert.deepEqual(
      pairs(
        '<p>Go to <a class="btn" href="https://evil.example/login?x=1&amp;y=2"><b>https://openai.com</b>/login</a> or <A HREF=\'mailto:help@openai.com\'>write to us</A>.</p>',
      ),
      [
        ["evil.example", "https://openai.com/login", "openai.com"],
        ["openai.com", "write to us", null],
      ],
    );
    assert.equal(
      htmlLinks('<a href="https://a.example/?x=1&amp;y=2">x</a>')[0]?.href,
      "https://a.example/?x=1&y=2",
    );
  });

  it("takes the first href as browsers do, and ignores href-like text inside other attributes", () => {
    assert.deepEqual(pairs(`<a title=" href='https://openai.com/'" href="https://evil.example/">x</a>`), [
      ["evil.example", "x", null],
    ]);
    assert.deepEqual(pairs('<a href="https://one.example/" href="https://two.example/">x</a>'), [
      ["one.example", "x", null],
    ]);
  });

  it("does not read markup inside attribute values, comments, scripts or styles as anchors", () => {
    assert.deepEqual(
      pairs(
        [
          "<img alt='<a href=\"https://hidden.example/\">x</a>' src=cid:1>",
          '<!-- <a href="https://comment.example/">c</a> -->',
          '<script>var s = "<a href=https://script.example/>s</a>";</script>',
          '<style>a[href="https://style.example/"]{}</style>',
          '<a title="1 > 0" href="https://real.example.org/">real.example.org</a>',
        ].join(""),
      ),
      [["real.example.org", "real.example.org", "real.example.org"]],
    );
  });

  it("ends an anchor at the next one when it is not closed, and reads image-map areas", () => {
    assert.deepEqual(pairs('<a href="https://a.example/">first <a href="https://b.example/">second</a>'), [
      ["a.example", "first", null],
      ["b.example", "second", null],
    ]);
    assert.deepEqual(pairs('<map><area shape=rect href="https://area.example/"></map>'), [
      ["area.example", "", null],
    ]);
  });

  it("decodes character references in targets and text, and unicode hosts to ASCII", () => {
    assert.deepEqual(pairs('<a href="https://&#x6f;penai.com.evil.example/">&#111;penai&period;com</a>'), [
      ["openai.com.evil.example", "openai.com", "openai.com"],
    ]);
    assert.deepEqual(pairs('<a href="https://\u043epenai.com/">x</a>')[0]?.[0], "xn--penai-iye.com");
    assert.equal(decodeEntities("&lt;&#60;&#x3c;&bogus;&amp"), "<<<&bogus;&");
  });

  it("stops at MAX_LINKS on a hostile part and stays linear on unclosed tags and quotes", () => {
    const many = '<a href="https://x.example/">x</a>'.repeat(MAX_LINKS + 50);
    assert.equal(htmlLinks(many).length, MAX_LINKS);
    const unclosed = `<a href="https://a.example/">a</a>${"<a x='".repeat(200_000)}`;
    assert.deepEqual(pairs(unclosed)[0], ["a.example", "a", null]);
  });
});

describe("shownHost", () => {
  it("finds a web address, an email address or a bare domain under a known suffix", () => {
    assert.equal(shownHost("https://Platform.OpenAI.com/settings"), "platform.openai.com");
    assert.equal(shownHost("Visit www.openai.com/help today"), "www.openai.com");
    assert.equal(shownHost("openai.co.uk"), "openai.co.uk");
    assert.equal(shownHost("write to security@openai.com"), "openai.com");
    assert.equal(shownHost("https://user@openai.com:8443/x"), "openai.com");
  });

  it("finds nothing in words, file names and version numbers", () => {
    for (const text of ["Click here", "readme.txt", "version 2.0", "", "e.g. this"]) {
      assert.equal(shownHost(text), null, text);
    }
  });
});

describe("targetHost", () => {
  it("reads web and mailto targets, and nothing from others", () => {
    assert.equal(targetHost("https://EVIL.example:8080/x"), "evil.example");
    assert.equal(targetHost("mailto:a%40b@Help.OpenAI.com?subject=hi"), "help.openai.com");
    assert.equal(targetHost("mailto:%zz@x.example"), "x.example");
    assert.equal(targetHost("/relative/path"), "");
    assert.equal(targetHost("javascript:alert(1)"), "");
    assert.equal(targetHost("http://[2001:db8::1]/"), "2001:db8::1");
  });
});

describe("textLinks and messageLinks", () => {
  it("finds addresses in a text part without trailing punctuation", () => {
    assert.deepEqual(
      textLinks("See https://openai.com/notice. Or (https://evil.example/x), mailto:a@b.example!").map(
        (l) => l.href,
      ),
      ["https://openai.com/notice", "https://evil.example/x", "mailto:a@b.example"],
    );
  });

  it("reads a parsed message's HTML and text parts, each link once", async () => {
    const email = await PostalMime.parse(
      [
        "From: a@b.example",
        'Content-Type: multipart/alternative; boundary="x"',
        "",
        "--x",
        "Content-Type: text/plain",
        "",
        "Go to https://one.example/ or https://two.example/",
        "--x",
        "Content-Type: text/html",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        '<a href=3D"https://one.example/">one</a>',
        "--x--",
        "",
      ].join("\r\n"),
    );
    assert.deepEqual(
      messageLinks(email).map((l) => [l.part, l.href]),
      [
        ["html", "https://one.example/"],
        ["text", "https://two.example/"],
      ],
    );
  });
});
