import { parse as parseHost } from "tldts";
import { asciiHost } from "./domains.ts";

/**
 * The links a message shows its reader: from the HTML part each anchor's target and the text it
 * shows, from the text part each web address. postal-mime has decoded the parts (transfer encoding
 * and charset); no HTML parser is among the project's dependencies, so anchors are found by a small
 * scanner that respects quoted attribute values, which is all that reading hrefs and their text needs.
 */

export type MessageLink = Readonly<{
  /** the target as written (entities decoded) */
  href: string;
  /** the target's host, ASCII; "" when it has none (relative, javascript:, ...) */
  host: string;
  /** what the reader sees (the anchor's text), whitespace collapsed; for the text part the address */
  text: string;
  /** the domain the text shows (as a web address, a bare domain or an email address), ASCII, or null */
  shownHost: string | null;
  part: "html" | "text";
}>;

/** At most this many links are looked at: enough for any real message, bounded for a hostile one. */
export const MAX_LINKS = 500;

const NAMED: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  sol: "/",
  colon: ":",
  period: ".",
  commat: "@",
};

/** HTML character references: numeric ones and the few named ones that matter in addresses. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);?/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const cp = ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

const collapse = (text: string) => text.replace(/\s+/g, " ").trim();

/** The host of a link target: web addresses by URL, mailto: by the address's domain. */
export function targetHost(href: string): string {
  const value = href.trim();
  if (/^mailto:/i.test(value)) {
    const first = value.slice(7).split("?")[0]?.split(",")[0] ?? "";
    let address = first;
    try {
      address = decodeURIComponent(first);
    } catch {
      // a stray % stays as written
    }
    const at = address.lastIndexOf("@");
    return at < 0 ? "" : asciiHost(address.slice(at + 1));
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "";
  }
  // an IPv6 literal is kept as it is (it is no domain name to convert)
  if (url.hostname.startsWith("[")) return url.hostname.slice(1, -1).toLowerCase();
  return url.hostname === "" ? "" : asciiHost(url.hostname);
}

const SHOWN_URL = /\b(?:https?|ftp):\/\/([^\s/?#<>"']+)/i;
const SHOWN_EMAIL = /[\p{L}\p{N}._%+-]+@((?:[\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]{2,})/u;
const SHOWN_DOMAIN = /(?:^|[\s(<["'])((?:[\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]{2,})(?=$|[\s/:?#)>\]"',;!])/u;

/**
 * The domain a link's text shows: a web address, an email address, or a bare domain such as
 * "example.com/login". A bare name counts only under a suffix the public suffix list knows, so
 * "readme.txt" or "v2.0" are not domains.
 */
export function shownHost(text: string): string | null {
  const url = SHOWN_URL.exec(text);
  if (url?.[1]) {
    const host = asciiHost(url[1].replace(/^[^@]*@/, "").replace(/:\d+$/, ""));
    return host || null;
  }
  const email = SHOWN_EMAIL.exec(text);
  const bare = email?.[1] ?? SHOWN_DOMAIN.exec(text)?.[1];
  if (!bare) return null;
  const host = asciiHost(bare);
  if (!host) return null;
  const parsed = parseHost(host);
  return parsed.isIcann && parsed.domain ? host : null;
}

const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;

/** The first href among a tag's attributes (as browsers take it), entities decoded. */
function hrefOf(attrs: string): string | null {
  for (const m of attrs.matchAll(ATTRIBUTE)) {
    if (m[1]?.toLowerCase() !== "href") continue;
    const raw = m[2] ?? m[3] ?? m[4];
    return raw === undefined ? null : decodeEntities(raw).trim();
  }
  return null;
}

function link(href: string, text: string, part: MessageLink["part"]): MessageLink {
  return { href, host: targetHost(href), text, shownHost: shownHost(text), part };
}

/** Elements whose content is not shown as text. */
const RAW_TEXT = new Set(["script", "style", "title", "textarea", "template"]);

/**
 * Anchors and image-map areas of an HTML part, in document order. One pass, never backwards, like
 * a browser's tokenizer: a tag runs to the first '>' outside quotes, so markup inside an attribute
 * ("<img alt='<a href=...>'>") is not an anchor, and hostile input costs time in proportion to its size.
 */
export function htmlLinks(html: string): MessageLink[] {
  const links: MessageLink[] = [];
  // the anchor being read: its target and the text seen so far
  const open: { href: string | null; text: string[] } = { href: null, text: [] };
  const close = () => {
    if (open.href !== null) links.push(link(open.href, collapse(open.text.join("")), "html"));
    open.href = null;
    open.text = [];
  };
  let i = 0;
  while (i < html.length && links.length < MAX_LINKS) {
    const lt = html.indexOf("<", i);
    const textEnd = lt < 0 ? html.length : lt;
    if (open.href !== null && textEnd > i) open.text.push(decodeEntities(html.slice(i, textEnd)));
    if (lt < 0) break;
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      i = end < 0 ? html.length : end + 3;
      continue;
    }
    const name = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/.exec(html.slice(lt, lt + 40));
    if (!name) {
      if (open.href !== null) open.text.push("<");
      i = lt + 1;
      continue;
    }
    // the tag's end: the first '>' outside a quoted attribute value (a quote opens one only after '=')
    let j = lt + (name[0] as string).length;
    let quote = "";
    let afterEquals = false;
    for (; j < html.length; j++) {
      const c = html[j] as string;
      if (quote) {
        if (c === quote) quote = "";
      } else if (c === ">") break;
      else if ((c === '"' || c === "'") && afterEquals) quote = c;
      if (c !== " " && c !== "\t" && c !== "\n" && c !== "\r") afterEquals = !quote && c === "=";
    }
    const closing = name[1] === "/";
    const tag = (name[2] as string).toLowerCase();
    const attrs = html.slice(lt + (name[0] as string).length, j);
    i = j + 1;
    if (!closing && RAW_TEXT.has(tag)) {
      const end = new RegExp(`</${tag}`, "gi");
      end.lastIndex = i;
      i = end.exec(html) ? end.lastIndex - tag.length - 2 : html.length;
      continue;
    }
    if (tag === "a") {
      close();
      if (!closing) {
        open.href = hrefOf(attrs);
      }
    } else if (tag === "area" && !closing) {
      const href = hrefOf(attrs);
      if (href !== null) links.push(link(href, "", "html"));
    } else if (open.href !== null && (tag === "br" || tag === "p" || tag === "div")) {
      open.text.push(" ");
    }
  }
  close();
  return links.slice(0, MAX_LINKS);
}

const TEXT_URL = /\b(?:https?:\/\/|mailto:)[^\s<>"'`]+/gi;

/** Web and mailto addresses written out in a text part; the text shown is the address itself. */
export function textLinks(text: string): MessageLink[] {
  const links: MessageLink[] = [];
  for (const m of text.matchAll(TEXT_URL)) {
    const href = m[0].replace(/[.,;:!?)\]}>]+$/, "");
    links.push(link(href, href, "text"));
    if (links.length >= MAX_LINKS) break;
  }
  return links;
}

/** Every link of a parsed message: the HTML part's, then the text part's not already seen. */
export function messageLinks(parts: { html?: string | undefined; text?: string | undefined }): MessageLink[] {
  const html = parts.html ? htmlLinks(parts.html) : [];
  const seen = new Set(html.map((l) => l.href));
  const text = parts.text ? textLinks(parts.text).filter((l) => !seen.has(l.href)) : [];
  return [...html, ...text].slice(0, MAX_LINKS);
}
