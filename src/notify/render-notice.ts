/**
 * Renders one recipient's notice from YAML files of Handlebars templates:
 * `templates/<locale>/users.yaml` and `admins.yaml` (keys `subject`, `text`, `html`) and
 * `labels.yaml` (`labels`: plain-language names of data categories and not-exposed items;
 * `plurals`: `{ members: { one, other, ... } }` with `{n}` for the number). A campaign's
 * `templatesDir` has the same layout; any file or key missing there comes from the shipped folder.
 *
 * Template context. Every value from a recipient or the settings is sanitised first (control and
 * line-separator characters become a space, then trimmed and length-capped); the html part escapes
 * every value (use only `{{ }}`, never `{{{ }}}`), subject and text are plain text.
 *
 *   locale               the template locale used, e.g. "pt-BR" (for `<html lang>`)
 *   subject              the rendered subject, one line (text and html only)
 *   name                 the recipient's name, or null: greet neutrally
 *   email                the address the notice is sent to
 *   company              who is writing, or null: neutral wording
 *   vendor               the breached vendor, or null: "one of our service providers"
 *   period.start, period.end, period.discovered
 *                        dates in the locale's long style (UTC), each null when unknown
 *   exposed              labels of the recipient's exposed categories, deduplicated, in order
 *   not_exposed          labels of what was not exposed; items without a label verbatim
 *   orgs                 admins: [{ id, name (or null), members_text ("3 affected members"),
 *                        exposed: [labels] }]; users: []
 *   many_orgs            true when orgs has more than one entry
 *   sender_domains       ["example.com", ...]
 *   sender_domains_text  "@example.com or @mail.example.com", joined for the locale ("" if none)
 *   contact              where to ask questions: an email address or an https URL
 *   contact_is_email, contact_is_url
 *                        which of the two it is; link it only then (mailto: or the URL)
 *
 * Only Handlebars' built-in helpers exist; an unknown field or helper, a partial or `{{{ }}}` in
 * html fails when the template is loaded, with the file and key in the message.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { parse as parseYaml } from "yaml";
import { AppError } from "../lib/errors.ts";
import {
  AUDIENCES,
  type Audience,
  type NoticeSettings,
  type Recipient,
  type RenderedNotice,
} from "./notice-types.ts";

export const SHIPPED_LOCALES: readonly string[] = Object.freeze(["en", "es", "pt-BR", "fr", "de", "it"]);

const SHIPPED_DIR = fileURLToPath(new URL("./templates/", import.meta.url));
const FALLBACK_LOCALE = "en";
// Mail clients and terminals show 76 columns comfortably; longer words (URLs) are never split.
const TEXT_WIDTH = 76;
const PARTS = ["subject", "text", "html"] as const;
type Part = (typeof PARTS)[number];

// Only a string of this shape ever becomes part of a path. Region may also be a UN M.49 number
// (es-419, Latin American Spanish), which is common in browsers' language settings.
const LOCALE_RE = /^[a-z]{2,3}(-[A-Z]{2}|-\d{3}|-[A-Za-z]{4})?$/;

const CAP = { name: 200, email: 320, org: 200, id: 200, domain: 253, contact: 500, item: 200 } as const;

type OrgContext = { id: string; name: string | null; members_text: string; exposed: string[] };

export type NoticeContext = {
  locale: string;
  subject?: string;
  name: string | null;
  email: string;
  company: string | null;
  vendor: string | null;
  period: { start: string | null; end: string | null; discovered: string | null };
  exposed: string[];
  not_exposed: string[];
  orgs: OrgContext[];
  many_orgs: boolean;
  sender_domains: string[];
  sender_domains_text: string;
  contact: string;
  contact_is_email: boolean;
  contact_is_url: boolean;
};

const bad = (message: string) => new AppError("BAD_INPUT", message);

// ---------------------------------------------------------------------------------------------------
// Sanitising

// C0, DEL and C1 controls, the Unicode line and paragraph separators, and bidi overrides (which can
// make a name display as something else).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]+/g;

function clean(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  let text = String(value).replace(UNSAFE, " ").trim();
  if (text.length > max) text = Array.from(text).slice(0, max).join("").trim();
  return text === "" ? null : text;
}

// ---------------------------------------------------------------------------------------------------
// Locales

/** `pt_br`, `PT-br`, `pt_BR.UTF-8` → `pt-BR`; null when the result is not a plain locale tag. */
export function normaliseLocale(value: string | null | undefined): string | null {
  if (typeof value !== "string") return null;
  // POSIX locales carry an encoding and modifier (de_DE.UTF-8@euro); extensions and variants after
  // the region (zh-Hant-TW, en-US-u-ca-buddhist) do not change which template fits.
  const [language = "", second] = value.trim().split(/[.@]/)[0]?.split(/[-_]/) ?? [];
  let tag = language.toLowerCase();
  if (second !== undefined) {
    const sub =
      second.length === 4 ? second[0]?.toUpperCase() + second.slice(1).toLowerCase() : second.toUpperCase();
    tag += `-${sub}`;
  }
  return LOCALE_RE.test(tag) ? tag : null;
}

const availableCache = new Map<string, readonly string[]>();

/** Locales with a template for the audience, shipped or in templatesDir, sorted. */
function availableLocales(templatesDir: string | null, audience: Audience): readonly string[] {
  const key = `${templatesDir ?? ""}\0${audience}`;
  let found = availableCache.get(key);
  if (found) return found;
  const locales = new Set(SHIPPED_LOCALES);
  if (templatesDir) {
    let entries: string[];
    try {
      entries = readdirSync(templatesDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      throw bad(`${templatesDir}: cannot read the templates folder (${code})`);
    }
    for (const entry of entries) {
      if (!LOCALE_RE.test(entry) || locales.has(entry)) continue;
      if (readYaml(path.join(templatesDir, entry, `${audience}.yaml`))) locales.add(entry);
    }
  }
  found = Object.freeze([...locales].sort());
  availableCache.set(key, found);
  return found;
}

function closest(requested: string | null, available: readonly string[]): string | null {
  const tag = normaliseLocale(requested);
  if (!tag) return null;
  if (available.includes(tag)) return tag;
  const language = tag.split("-")[0] as string;
  if (available.includes(language)) return language;
  return available.find((l) => l.startsWith(`${language}-`)) ?? null;
}

/**
 * The template locale for a requested one: exact, the language alone, another region of the same
 * language, then the same for `localeDefault`, then English.
 */
export function resolveLocale(
  requested: string | null,
  settings: Pick<NoticeSettings, "localeDefault" | "templatesDir">,
  audience: Audience,
): string {
  const available = availableLocales(settings.templatesDir, checkAudience(audience));
  return closest(requested, available) ?? closest(settings.localeDefault, available) ?? FALLBACK_LOCALE;
}

function checkAudience(audience: Audience): Audience {
  // The audience names a file, so it must be one of the known ones whatever the caller's types said.
  if (!(AUDIENCES as readonly string[]).includes(audience))
    throw bad(`unknown audience: ${String(audience)}`);
  return audience;
}

// ---------------------------------------------------------------------------------------------------
// Files

/** A YAML mapping, or null when the file does not exist. */
function readYaml(file: string): Record<string, unknown> | null {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw bad(`${file}: cannot read the template file (${code ?? "error"})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(source);
  } catch (error) {
    const e = error as Error & { linePos?: { line: number }[] };
    const line = e.linePos?.[0]?.line;
    throw bad(`${file}${line ? ` line ${line}` : ""}: not valid YAML: ${e.message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw bad(`${file}: expected a mapping of keys`);
  return doc as Record<string, unknown>;
}

function localeFile(dir: string, locale: string, name: string): string {
  // Callers pass resolved locales; this keeps a stray one from ever leaving the folder.
  if (!LOCALE_RE.test(locale)) throw bad(`not a locale: ${JSON.stringify(locale.slice(0, 40))}`);
  return path.join(dir, locale, name);
}

type Layer = { file: string; data: Record<string, unknown> };

/** The shipped file and the override, whichever exist, override last. */
function layers(templatesDir: string | null, locale: string, name: string): Layer[] {
  const found: Layer[] = [];
  for (const dir of templatesDir ? [SHIPPED_DIR, templatesDir] : [SHIPPED_DIR]) {
    if (dir === SHIPPED_DIR && !SHIPPED_LOCALES.includes(locale)) continue;
    const file = localeFile(dir, locale, name);
    const data = readYaml(file);
    if (data) found.push({ file, data });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------
// Labels and plurals

type Labels = { labels: Map<string, string>; plurals: Map<string, Record<string, string>> };

const labelsCache = new Map<string, Labels>();

function labelsOf(templatesDir: string | null, locale: string): Labels {
  const key = `${templatesDir ?? ""}\0${locale}`;
  let found = labelsCache.get(key);
  if (found) return found;
  found = { labels: new Map(), plurals: new Map() };
  if (LOCALE_RE.test(locale)) {
    for (const { file, data } of layers(templatesDir, locale, "labels.yaml")) readLabels(file, data, found);
  }
  labelsCache.set(key, found);
  return found;
}

function readLabels(file: string, data: Record<string, unknown>, into: Labels): void {
  for (const key of Object.keys(data)) {
    if (key !== "labels" && key !== "plurals")
      throw bad(`${file}: unknown key "${key}" (expected labels, plurals)`);
  }
  for (const [key, value] of Object.entries(mapping(file, "labels", data.labels))) {
    if (typeof value !== "string" || value.trim() === "") throw bad(`${file}: labels.${key} must be a text`);
    into.labels.set(key, value.trim());
  }
  for (const [name, forms] of Object.entries(mapping(file, "plurals", data.plurals))) {
    const checked: Record<string, string> = {};
    for (const [form, text] of Object.entries(mapping(file, `plurals.${name}`, forms))) {
      if (typeof text !== "string") throw bad(`${file}: plurals.${name}.${form} must be a text`);
      checked[form] = text;
    }
    if (checked.other === undefined) throw bad(`${file}: plurals.${name} needs an "other" form`);
    into.plurals.set(name, checked);
  }
}

function mapping(file: string, key: string, value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw bad(`${file}: ${key} must be a mapping`);
  return value as Record<string, unknown>;
}

function lookup(labels: Labels, key: string, parents: boolean): string | undefined {
  for (let k = key; ; ) {
    const label = labels.labels.get(k);
    if (label !== undefined) return label;
    const dot = k.lastIndexOf(".");
    if (!parents || dot < 0) return undefined;
    k = k.slice(0, dot);
  }
}

/** The data categories (fideslang keys, `user` and below) that the shipped English labels name. */
export function labelledCategories(): string[] {
  return [...labelsOf(null, FALLBACK_LOCALE).labels.keys()].filter(
    (k) => k === "user" || k.startsWith("user."),
  );
}

/**
 * A data category's name in a locale: the key, else its nearest parent (`user.contact.phone_number`
 * → `user.contact` → `user`), in that locale, then in English, else the key itself.
 */
export function labelFor(locale: string, key: string, templatesDir: string | null = null): string {
  const tag = normaliseLocale(locale) ?? FALLBACK_LOCALE;
  return (
    lookup(labelsOf(templatesDir, tag), key, true) ??
    lookup(labelsOf(templatesDir, FALLBACK_LOCALE), key, true) ??
    key
  );
}

// A parent's name would claim more than the operator did ("not exposed: personal data"), so
// not-exposed items match their key exactly or are shown as written.
function notExposedLabel(templatesDir: string | null, locale: string, item: string): string {
  return (
    lookup(labelsOf(templatesDir, locale), item, false) ??
    lookup(labelsOf(templatesDir, FALLBACK_LOCALE), item, false) ??
    item
  );
}

type LocaleFormats = {
  date: Intl.DateTimeFormat;
  plural: Intl.PluralRules;
  number: Intl.NumberFormat;
  list: Intl.ListFormat;
};
const formatsCache = new Map<string, LocaleFormats>();

function formats(locale: string): LocaleFormats {
  let found = formatsCache.get(locale);
  if (!found) {
    found = {
      date: new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }),
      plural: new Intl.PluralRules(locale),
      number: new Intl.NumberFormat(locale),
      list: new Intl.ListFormat(locale, { type: "disjunction" }),
    };
    formatsCache.set(locale, found);
  }
  return found;
}

function plural(templatesDir: string | null, locale: string, name: string, n: number): string {
  const forms =
    labelsOf(templatesDir, locale).plurals.get(name) ??
    labelsOf(templatesDir, FALLBACK_LOCALE).plurals.get(name);
  const { plural: rules, number } = formats(locale);
  const text = forms?.[rules.select(n)] ?? forms?.other ?? "{n}";
  return text.replaceAll("{n}", number.format(n));
}

// ---------------------------------------------------------------------------------------------------
// Dates

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

const FIRST_OF_MONTH: Record<string, string> = { fr: "1er", pt: "1º", it: "1º" };

/** A settings date in the locale's long style, as a UTC calendar date; null when not given. */
function formatDate(field: string, value: string | null, locale: string): string | null {
  const text = clean(value, 64);
  if (!text) return null;
  const m = ISO_RE.exec(text);
  let date: Date;
  if (m) {
    // A date or a time without a zone is taken as UTC, so the day never depends on the host's zone.
    const zone = m[5] === undefined ? "Z" : m[5].length === 5 ? `${m[5].slice(0, 3)}:${m[5].slice(3)}` : m[5];
    date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? "00:00"}${zone.toUpperCase()}`);
    // Date rolls 2025-02-30 over to March; a date that does not exist is a mistake.
    if (m[4] === undefined && date.getUTCDate() !== Number(m[3])) date = new Date(Number.NaN);
  } else {
    date = new Date(text);
  }
  if (Number.isNaN(date.getTime())) throw bad(`${field}: not an ISO-8601 date: ${JSON.stringify(text)}`);
  let formatted = formats(locale).date.format(date);
  // French, Portuguese and Italian write the first of the month as an ordinal, which Intl does not.
  if (formatted.startsWith("1 ")) {
    const ordinal = FIRST_OF_MONTH[locale.split("-")[0] as string];
    if (ordinal) formatted = `${ordinal}${formatted.slice(1)}`;
  }
  // A date is never broken across lines ("8." / "November 2025").
  return formatted.replaceAll(" ", "\u00A0");
}

// ---------------------------------------------------------------------------------------------------
// Templates

const hbs = Handlebars.create();
const HELPERS = ["if", "unless", "each", "with", "lookup", "log"];
const FIELDS = new Set([
  ...HELPERS,
  "locale",
  "subject",
  "name",
  "email",
  "company",
  "vendor",
  "period",
  "start",
  "end",
  "discovered",
  "exposed",
  "not_exposed",
  "orgs",
  "id",
  "members_text",
  "many_orgs",
  "sender_domains",
  "sender_domains_text",
  "contact",
  "contact_is_email",
  "contact_is_url",
  "length",
]);

/** Why a template is refused, or null: checked on the syntax tree, before anything runs. */
function refusal(node: unknown, html: boolean): string | null {
  if (Array.isArray(node)) {
    for (const child of node) {
      const why = refusal(child, html);
      if (why) return why;
    }
    return null;
  }
  if (!node || typeof node !== "object") return null;
  const n = node as {
    type?: string;
    escaped?: boolean;
    data?: boolean;
    parts?: string[];
    original?: string;
    loc?: { start?: { line?: number } };
  };
  const at = n.loc?.start?.line ? ` (line ${n.loc.start.line})` : "";
  if (n.type === "PartialStatement" || n.type === "PartialBlockStatement") return `uses a partial${at}`;
  if (n.type === "Decorator" || n.type === "DecoratorBlock") return `uses a decorator${at}`;
  if (html && n.type === "MustacheStatement" && n.escaped === false) {
    return `uses {{{ }}} or {{& }}${at}; the html part must escape every value`;
  }
  if (n.type === "PathExpression" && !n.data) {
    const head = n.parts?.[0];
    if (head !== undefined && !FIELDS.has(head)) return `uses an unknown field "${n.original ?? head}"${at}`;
  }
  for (const [key, value] of Object.entries(n)) {
    if (key === "loc" || typeof value !== "object") continue;
    const why = refusal(value, html);
    if (why) return why;
  }
  return null;
}

const SAMPLE: NoticeContext = {
  locale: "en",
  subject: "Subject",
  name: "Name",
  email: "person@example.com",
  company: "Company",
  vendor: "Vendor",
  period: { start: "start", end: "end", discovered: "discovered" },
  exposed: ["Email"],
  not_exposed: ["Passwords"],
  orgs: [{ id: "org", name: "Org", members_text: "2 members", exposed: ["Email"] }],
  many_orgs: false,
  sender_domains: ["example.com"],
  sender_domains_text: "@example.com",
  contact: "help@example.com",
  contact_is_email: true,
  contact_is_url: false,
};

type Render = (context: NoticeContext) => string;

function compile(source: unknown, file: string, part: Part): Render {
  const where = `${file}: key "${part}"`;
  if (typeof source !== "string") throw bad(`${where} must be a text`);
  let ast: ReturnType<typeof hbs.parse>;
  try {
    ast = hbs.parse(source);
  } catch (error) {
    throw bad(`${where} is not a valid template: ${oneLine(String((error as Error).message)).slice(0, 300)}`);
  }
  const why = refusal(ast, part === "html");
  if (why) throw bad(`${where} ${why}`);
  const template = hbs.compile<NoticeContext>(ast, {
    noEscape: part !== "html",
    knownHelpersOnly: true,
    preventIndent: true,
  });
  // Handlebars compiles on first use; do it now so a broken template fails here, naming the file.
  try {
    template(SAMPLE);
  } catch (error) {
    throw bad(`${where} cannot be compiled: ${oneLine(String((error as Error).message)).slice(0, 300)}`);
  }
  return template;
}

type Templates = Record<Part, Render>;
const templatesCache = new Map<string, Templates>();

function templatesFor(templatesDir: string | null, locale: string, audience: Audience): Templates {
  const key = `${templatesDir ?? ""}\0${locale}\0${audience}`;
  let found = templatesCache.get(key);
  if (found) return found;
  const stack = layers(templatesDir, locale, `${audience}.yaml`);
  const compiled: Partial<Templates> = {};
  for (const { file, data } of stack) {
    for (const k of Object.keys(data)) {
      if (!(PARTS as readonly string[]).includes(k))
        throw bad(`${file}: unknown key "${k}" (expected subject, text, html)`);
    }
  }
  for (const part of PARTS) {
    const layer = stack.findLast((l) => l.data[part] !== undefined && l.data[part] !== null);
    if (!layer) {
      const file = stack.at(-1)?.file ?? localeFile(templatesDir ?? SHIPPED_DIR, locale, `${audience}.yaml`);
      throw bad(`${file}: key "${part}" is missing and no shipped template has it`);
    }
    compiled[part] = compile(layer.data[part], layer.file, part);
  }
  found = compiled as Templates;
  templatesCache.set(key, found);
  return found;
}

/** Forgets loaded templates and labels, e.g. after the override folder changed. */
export function clearNoticeCache(): void {
  availableCache.clear();
  labelsCache.clear();
  templatesCache.clear();
}

// ---------------------------------------------------------------------------------------------------
// Rendering

const EMAIL_RE = /^[^\s@<>"'()[\],;:\\]+@[^\s@<>"'()[\],;:\\]+\.[^\s@<>"'()[\],;:\\]+$/;
const URL_RE = /^https:\/\/[^\s<>"'`\\]+$/i;

function unique(items: Iterable<string>): string[] {
  return [...new Set(items)];
}

function context(audience: Audience, recipient: Recipient, settings: NoticeSettings, locale: string) {
  const dir = settings.templatesDir;
  const categoryLabels = (keys: readonly string[]) =>
    unique(
      keys.flatMap((key) => {
        const k = clean(key, CAP.item);
        return k ? [labelFor(locale, k, dir)] : [];
      }),
    );
  const orgs: OrgContext[] =
    audience === "admins"
      ? recipient.orgs.map((org) => {
          const n = Number.isFinite(org.affected_members) ? Math.max(0, org.affected_members) : 0;
          return {
            id: clean(org.org_id, CAP.id) ?? "",
            name: clean(org.name, CAP.org),
            members_text: plural(dir, locale, "members", n),
            exposed: categoryLabels(org.categories),
          };
        })
      : [];
  const domains = unique(
    settings.senderDomains.flatMap((d) => {
      const domain = clean(d, CAP.domain)?.replace(/^@/, "").toLowerCase();
      return domain ? [domain] : [];
    }),
  );
  const contact = clean(settings.contact, CAP.contact) ?? "";
  const result: NoticeContext = {
    locale,
    name: clean(recipient.name, CAP.name),
    email: clean(recipient.email, CAP.email) ?? "",
    company: clean(settings.company, CAP.name),
    vendor: clean(settings.vendor, CAP.name),
    period: {
      start: formatDate("incidentStart", settings.incidentStart, locale),
      end: formatDate("incidentEnd", settings.incidentEnd, locale),
      discovered: formatDate("discoveredAt", settings.discoveredAt, locale),
    },
    exposed: categoryLabels(recipient.categories),
    not_exposed: unique(
      settings.notExposed.flatMap((item) => {
        const text = clean(item, CAP.item);
        return text ? [notExposedLabel(dir, locale, text)] : [];
      }),
    ),
    orgs,
    many_orgs: orgs.length > 1,
    sender_domains: domains,
    sender_domains_text: domains.length ? formats(locale).list.format(domains.map((d) => `@${d}`)) : "",
    contact,
    contact_is_email: EMAIL_RE.test(contact),
    contact_is_url: URL_RE.test(contact),
  };
  return result;
}

function oneLine(text: string): string {
  // Keeps no-break spaces (French puts them before colons) but nothing that could end a header.
  return text.replace(/[\s\u0085]+/g, (run) => (run === "\u00A0" || run === "\u202F" ? run : " ")).trim();
}

/** Trims trailing spaces, keeps at most one blank line in a row and wraps long lines. */
function tidyText(text: string): string {
  const out: string[] = [];
  for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
    const line = raw.trimEnd();
    if (line === "" && (out.length === 0 || out.at(-1) === "")) continue;
    for (const piece of wrap(line)) out.push(piece);
  }
  while (out.at(-1) === "") out.pop();
  return `${out.join("\n")}\n`;
}

/** Wraps at spaces; a list item's continuation lines are indented under its text. */
function wrap(line: string): string[] {
  if (line.length <= TEXT_WIDTH) return [line];
  const lead = /^\s*(?:[-*•]\s+|\d+[.)]\s+)?/.exec(line)?.[0] ?? "";
  const hanging = " ".repeat(lead.length);
  const lines: string[] = [];
  let current = lead;
  let fresh = true;
  for (const word of line.slice(lead.length).split(/ +/)) {
    if (word === "") continue;
    if (!fresh && current.length + 1 + word.length > TEXT_WIDTH) {
      lines.push(current);
      current = hanging + word;
    } else {
      current += fresh ? word : ` ${word}`;
    }
    fresh = false;
  }
  lines.push(current);
  return lines;
}

/** One recipient's notice in their language (or the nearest available one). */
export function renderNotice(
  audience: Audience,
  recipient: Recipient,
  settings: NoticeSettings,
): RenderedNotice {
  const locale = resolveLocale(recipient.locale, settings, audience);
  const templates = templatesFor(settings.templatesDir, locale, audience);
  const values = context(audience, recipient, settings, locale);
  const subject = oneLine(templates.subject(values));
  values.subject = subject;
  return {
    locale,
    subject,
    text: tidyText(templates.text(values)),
    html: `${templates
      .html(values)
      .replace(/\n[ \t]*(?=\n)/g, "")
      .trim()}\n`,
  };
}
