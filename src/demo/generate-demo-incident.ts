import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { finished, pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { defaultMapping } from "../intake/mapping.ts";
import { usageError } from "../lib/errors.ts";

/**
 * Writes a synthetic but realistic vendor-breach incident: the company's identity store, a Mixpanel
 * event export and profile page, and the results the analyzer must produce for them.
 *
 * The expected results are known BY CONSTRUCTION: every record is built for one subject with a known
 * attribution (which user it resolves to and how, or which unmatched person, or nobody), and the
 * generator books it as it writes it. Nothing re-reads the files. The scenarios are kept simple enough
 * that each record's attribution follows from how it was built:
 *   - identified users: events with distinct_id = $user_id = user_id (matched_by user_id)
 *   - legacy users: events with distinct_id = user_id only (matched_by distinct_id)
 *   - anonymous-then-identified sessions on a device only that user ever uses (stitched by device)
 *   - users present only as a profile with an opaque distinct id and their email in another case
 *     with spaces around it (matched_by email)
 *   - deleted accounts: profiles (sometimes two, one email) and events under opaque ids, with an email
 *     no user has; some carry hostile names
 *   - anonymous visitors, and devices shared by two users whose anonymous events stay anonymous
 *   - profiles whose distinct id is user A's and email user B's (A wins, counted as a conflict)
 *   - broken lines (truncated JSON, non-objects, records without any identifier) that go to quarantine
 * Events are interleaved over time and streamed to a gzip file; nothing holds them all in memory.
 *
 * Cases the rules leave open are avoided rather than guessed: no unresolved group carries two emails,
 * an email-matched profile's opaque distinct id never appears on an event, broken rows carry no
 * unmapped fields, and an unmatched person's name comes from one profile only.
 */

export type DemoOptions = { outDir: string; users: number; orgs: number; events: number; seed?: number };

export type DemoCounts = {
  users: number;
  orgs: number;
  memberships: number;
  /** non-blank lines of the event file, broken ones included */
  eventLines: number;
  profiles: number;
  rowsRead: number;
  rowsUsed: number;
  quarantined: number;
  matched: number;
  unmatchedWithEmail: number;
  anonymous: number;
  affectedPeople: number;
  affectedOrgs: number;
  adminsToNotify: number;
  conflicts: number;
};

export type DemoManifest = {
  /** the dataset files, in the order to pass them to the analyzer */
  datasets: string[];
  identitiesDir: string;
  expectedDir: string;
  counts: DemoCounts;
};

/** The smallest incident that still holds every scenario, and a guard against typos. */
export const DEMO_LIMITS = { minUsers: 20, minOrgs: 2, minEvents: 100, max: 50_000_000 } as const;

// ---------------------------------------------------------------------------------------------------
// Field mapping (the analyzer's defaults), used only to book each generated record's categories.

const CATEGORIES = [
  "user.behavior",
  "user.behavior.browsing_history",
  "user.contact.email",
  "user.contact.phone_number",
  "user.device",
  "user.device.device_id",
  "user.device.ip_address",
  "user.location.coarse",
  "user.name",
  "user.unique_id",
] as const;
type Category = (typeof CATEGORIES)[number];
const BIT = new Map<Category, number>(CATEGORIES.map((c, i) => [c, 1 << i]));
const bit = (c: Category): number => BIT.get(c) ?? 0;

// The mapping is the engine's own table (tested against the README's list in mapping.test.ts).
const FIELD_CATEGORY = Object.fromEntries(defaultMapping.fields) as Record<string, Category>;
/** Fields the analyzer knows (mapped or playing a role); any other key is an unmapped field. */
const KNOWN_FIELDS = new Set(Object.keys(FIELD_CATEGORY));
const DEVICE_PREFIX = "$device:";

function present(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === "string") return value.trim() !== "";
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

const FIELD_BIT = new Map(Object.entries(FIELD_CATEGORY).map(([field, category]) => [field, bit(category)]));
const DEVICE_ID_BIT = bit("user.device.device_id");

/**
 * The categories one record exposes: its mapped fields that hold a value. `top` holds the event name or
 * the profile's distinct id, `props` the properties.
 */
function categoriesOf(
  kind: "event" | "profile",
  top: Record<string, unknown>,
  props: Record<string, unknown>,
): number {
  let cats = 0;
  for (const fields of [top, props]) {
    for (const key in fields) {
      const fieldBit = FIELD_BIT.get(key);
      if (fieldBit === undefined || (kind === "profile" && (key === "event" || key === "time"))) continue;
      const value = fields[key];
      if (!present(value)) continue;
      const deviceDid =
        (key === "distinct_id" || key === "$distinct_id") &&
        typeof value === "string" &&
        value.startsWith(DEVICE_PREFIX);
      cats |= deviceDid ? DEVICE_ID_BIT : fieldBit;
    }
  }
  return cats;
}

const RANKS = ["", "device", "email", "distinct_id", "user_id"] as const;
const RANK = { device: 1, email: 2, distinctId: 3, userId: 4 } as const;

// ---------------------------------------------------------------------------------------------------
// Randomness: mulberry32, and everything derived from it in a fixed order.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = ReturnType<typeof randomTools>;

function randomTools(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number): number => Math.floor(next() * n);
  const hex = (chars: number): string => {
    let out = "";
    while (out.length < chars)
      out += Math.floor(next() * 4294967296)
        .toString(16)
        .padStart(8, "0");
    return out.slice(0, chars);
  };
  // Opaque ids (device ids, Mixpanel distinct ids) end in a bijective scramble of a counter: they look
  // random but two can never be equal.
  let counter = 0;
  const scramble = (n: number): number => {
    let x = n >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
    return (x ^ (x >>> 16)) >>> 0;
  };
  return {
    next,
    int,
    hex,
    chance: (p: number): boolean => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    weighted: <T>(items: readonly (readonly [T, number])[]): T => {
      const total = items.reduce((s, [, w]) => s + w, 0);
      let x = next() * total;
      for (const [item, w] of items) {
        x -= w;
        if (x < 0) return item;
      }
      return (items[items.length - 1] as readonly [T, number])[0];
    },
    shuffle: <T>(items: T[]): T[] => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [items[i], items[j]] = [items[j] as T, items[i] as T];
      }
      return items;
    },
    uniqueId: (): string => {
      const tail = hex(4) + scramble(counter++).toString(16).padStart(8, "0");
      return `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[int(4)]}${hex(3)}-${tail}`;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Reference data.

type Country = Readonly<{
  code: string;
  weight: number;
  language: string;
  domain: string;
  phone: string;
  timezone: string;
  first: readonly string[];
  last: readonly string[];
  cities: readonly (readonly [string, string])[];
}>;

const COUNTRIES: readonly Country[] = [
  {
    code: "US",
    weight: 24,
    language: "en",
    domain: "example.com",
    phone: "+1",
    timezone: "America/New_York",
    first: ["James", "Emily", "Michael", "Olivia", "David", "Ava", "Chris", "Madison"],
    last: ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis"],
    cities: [
      ["New York", "New York"],
      ["San Francisco", "California"],
      ["Austin", "Texas"],
      ["Seattle", "Washington"],
      ["Chicago", "Illinois"],
    ],
  },
  {
    code: "DE",
    weight: 18,
    language: "de",
    domain: "example.de",
    phone: "+49",
    timezone: "Europe/Berlin",
    first: ["Anna", "Lukas", "Sophie", "Jonas", "Marie", "Felix", "Lena", "Jürgen"],
    last: ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"],
    cities: [
      ["Berlin", "Berlin"],
      ["Munich", "Bavaria"],
      ["Hamburg", "Hamburg"],
      ["Cologne", "North Rhine-Westphalia"],
    ],
  },
  {
    code: "GB",
    weight: 12,
    language: "en",
    domain: "example.co.uk",
    phone: "+44",
    timezone: "Europe/London",
    first: ["Oliver", "Amelia", "Harry", "Isla", "George", "Poppy", "Siobhan", "Rhys"],
    last: ["Taylor", "Davies", "Evans", "Wilson", "O'Brien", "Roberts", "Thomas", "Hughes"],
    cities: [
      ["London", "England"],
      ["Manchester", "England"],
      ["Edinburgh", "Scotland"],
      ["Cardiff", "Wales"],
    ],
  },
  {
    code: "FR",
    weight: 12,
    language: "fr",
    domain: "example.fr",
    phone: "+33",
    timezone: "Europe/Paris",
    first: ["Camille", "Louis", "Léa", "Hugo", "Chloé", "Jules", "Manon", "Théo"],
    last: ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Lefèvre", "Moreau"],
    cities: [
      ["Paris", "Île-de-France"],
      ["Lyon", "Auvergne-Rhône-Alpes"],
      ["Marseille", "Provence-Alpes-Côte d'Azur"],
      ["Toulouse", "Occitanie"],
    ],
  },
  {
    code: "BR",
    weight: 10,
    language: "pt-BR",
    domain: "example.com.br",
    phone: "+55",
    timezone: "America/Sao_Paulo",
    first: ["João", "Maria", "Ana", "Pedro", "Lucas", "Júlia", "Gabriel", "Beatriz"],
    last: ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida"],
    cities: [
      ["São Paulo", "São Paulo"],
      ["Rio de Janeiro", "Rio de Janeiro"],
      ["Belo Horizonte", "Minas Gerais"],
      ["Porto Alegre", "Rio Grande do Sul"],
    ],
  },
  {
    code: "ES",
    weight: 8,
    language: "es",
    domain: "example.es",
    phone: "+34",
    timezone: "Europe/Madrid",
    first: ["Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Carmen", "Álvaro"],
    last: ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez"],
    cities: [
      ["Madrid", "Madrid"],
      ["Barcelona", "Catalonia"],
      ["Valencia", "Valencia"],
      ["Seville", "Andalusia"],
    ],
  },
  {
    code: "IT",
    weight: 8,
    language: "it",
    domain: "example.it",
    phone: "+39",
    timezone: "Europe/Rome",
    first: ["Giulia", "Francesco", "Sofia", "Alessandro", "Aurora", "Leonardo", "Chiara", "Matteo"],
    last: ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"],
    cities: [
      ["Rome", "Lazio"],
      ["Milan", "Lombardy"],
      ["Naples", "Campania"],
      ["Turin", "Piedmont"],
    ],
  },
  {
    code: "JP",
    weight: 8,
    language: "ja",
    domain: "example.jp",
    phone: "+81",
    timezone: "Asia/Tokyo",
    first: ["Haruto", "Yui", "Sota", "Hina", "Yuto", "Aoi", "Ren", "Sakura"],
    last: ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"],
    cities: [
      ["Tokyo", "Tokyo"],
      ["Osaka", "Osaka"],
      ["Yokohama", "Kanagawa"],
      ["Sapporo", "Hokkaido"],
    ],
  },
];
const COUNTRY_WEIGHTS = COUNTRIES.map((c) => [c, c.weight] as const);
const LANGUAGES = ["de", "fr", "pt-BR", "en", "ja", "es", "it"] as const;
const JAPANESE_NAMES = ["佐藤 陽翔", "鈴木 結衣", "高橋 蒼空", "田中 陽菜"] as const;

const ORG_WORDS = [
  "Nordwind",
  "Blue Harbor",
  "Sakura",
  "Atlântico",
  "Lumière",
  "Castello",
  "Solana",
  "Thames",
  "Alpenglow",
  "Iberia",
  "Pacific Pine",
  "Kite",
  "Granite",
  "Maple Leaf",
  "Aurora",
  "Kestrel",
] as const;
const ORG_KINDS = ["Logistics", "Studio", "Health", "Analytics", "Foods", "Legal", "Labs", "Retail"] as const;
const ORG_SUFFIX: Record<string, string> = {
  US: "Inc.",
  DE: "GmbH",
  GB: "Ltd",
  FR: "SAS",
  BR: "Ltda.",
  ES: "S.L.",
  IT: "S.r.l.",
  JP: "K.K.",
};

const START = Date.UTC(2024, 4, 1) / 1000; // 2024-05-01T00:00:00Z, start of the exposed window
const SPAN = 30 * 86400;
const APP = "https://app.example.com";
const SITE = "https://www.example.com";
const APP_PATHS = [
  "/dashboard",
  "/documents",
  "/documents/new",
  "/invoices",
  "/reports",
  "/settings/profile",
  "/team",
];
const SITE_PATHS = [
  "/",
  "/pricing",
  "/features",
  "/docs/getting-started",
  "/blog/security-update",
  "/signup",
];
const REFERRERS = [
  ["https://www.google.com/", "www.google.com"],
  ["https://www.bing.com/", "www.bing.com"],
  ["https://www.linkedin.com/", "www.linkedin.com"],
  ["https://news.ycombinator.com/", "news.ycombinator.com"],
  ["https://mail.example.org/", "mail.example.org"],
] as const;
const USER_EVENTS = [
  "Page Viewed",
  "Page Viewed",
  "Page Viewed",
  "Document Created",
  "Document Shared",
  "Invoice Sent",
  "Report Exported",
  "Search Performed",
  "Settings Updated",
  "Invite Sent",
  "Comment Added",
  "Plan Upgraded",
] as const;
const ANON_EVENTS = [
  "Page Viewed",
  "Page Viewed",
  "Pricing Viewed",
  "Docs Viewed",
  "Signup Started",
  "Demo Requested",
];

const HOSTILE_NAMES = [
  "<script>alert(1)</script>",
  '=HYPERLINK("http://x","y")',
  "Longname".repeat(1250), // 10,000 characters
  "Robert'); DROP TABLE users;--",
  "@everyone",
  "+SUM(A1:A9)",
] as const;

// ---------------------------------------------------------------------------------------------------
// Model.

type Scenario = "absent" | "identified" | "distinctOnly" | "stitched" | "emailOnly";

type Device = Readonly<{
  id: string;
  lib: "web" | "android" | "iphone";
  os: string;
  browser: string;
  browserVersion: number;
  model: string;
  screen: readonly [number, number];
}>;

type User = {
  id: string;
  email: string;
  name: string;
  /** as written in users.csv: may be empty or lower-case */
  storeCountry: string;
  /** where the user's records place them */
  home: Country;
  language: string;
  orgs: number[];
  scenario: Scenario;
  devices: Device[];
  /** a device this user shares with one other user */
  sharedDevice: Device | null;
  profile: boolean;
  /** the user whose email this user's profile carries (a conflict), or -1 */
  conflictWith: number;
};

type Org = { id: string; name: string; country: string; members: { user: number; role: string }[] };

/** An account deleted from the store but still in the vendor's data: an unmatched person with an email. */
type Deleted = {
  email: string;
  /** distinct ids of its profiles (the first also carries its events); all share the email */
  ids: string[];
  name: string;
  home: Country;
  /** an org id of orgs.csv, one that is not there, or none */
  org: string | null;
  withUserId: boolean;
  /** set when the account has events */
  device: Device | null;
};

type Visitor = { device: Device; home: Country; org: string | null };
type Shared = { device: Device; users: readonly [number, number] };

/** Someone the event stream still owes events to. */
type Subject = {
  kind: "user" | "sharedAnon" | "visitor" | "deleted";
  ref: number;
  remaining: number;
  /** anonymous events still to come before the login (stitched users) */
  anon: number;
  loggedIn: boolean;
  sharedUsed: boolean;
};

type World = {
  users: User[];
  orgs: Org[];
  orgIndex: Map<string, number>;
  memberships: number;
  shared: Shared[];
  deleted: Deleted[];
  visitors: Visitor[];
  subjects: Subject[];
  malformed: string[];
};

// ---------------------------------------------------------------------------------------------------
// Output helpers.

type Sink = { push(text: string): boolean; flush(): Promise<void>; close(): Promise<void> };

/** A buffered write stream (optionally gzip) that keeps at most a few MB in flight. */
function openSink(file: string, gzip = false): Sink {
  const out = createWriteStream(file);
  const gz = gzip ? createGzip({ level: 6 }) : null;
  const target = gz ?? out;
  const done = gz ? pipeline(gz, out) : finished(out);
  done.catch(() => {}); // observed in flush() and close()
  let buffer = "";
  const flush = async () => {
    if (buffer === "") return;
    target.write(buffer);
    buffer = "";
    if (target.writableLength > 1 << 22) await Promise.race([once(target, "drain"), done]);
    // Let zlib's callbacks run, so it compresses on its own thread while the next chunk is generated.
    else if (gz) await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    push(text) {
      buffer += text;
      return buffer.length >= 1 << 16;
    },
    flush,
    async close() {
      await flush();
      target.end();
      await done;
    },
  };
}

async function writeAll(file: string, lines: Iterable<string>): Promise<void> {
  const sink = openSink(file);
  for (const line of lines) if (sink.push(line)) await sink.flush();
  await sink.close();
}

/** RFC 4180 quoting. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** As the analyzer writes a cell: formula-looking text defused with a leading quote, then quoted. */
function safeCell(value: string): string {
  return csvField(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}

const csvRow = (cells: readonly string[]): string => `${cells.map(csvField).join(",")}\n`;
const safeRow = (cells: readonly (string | number)[]): string =>
  `${cells.map((c) => (typeof c === "number" ? String(c) : safeCell(c))).join(",")}\n`;

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const ascii = (text: string): string =>
  text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");

/** The same email in a different case. */
function otherCase(email: string): string {
  const upper = email.toUpperCase();
  return upper !== email ? upper : email.toLowerCase();
}

const isoSeconds = (unix: number): string => new Date(unix * 1000).toISOString().slice(0, 19);

/** The most frequent code; a tie goes to the alphabetically first; "" when there is none. */
function mostFrequent(tally: ReadonlyMap<string, number> | undefined): string {
  let best = "";
  let count = 0;
  for (const [code, n] of tally ?? [])
    if (n > count || (n === count && code < best)) [best, count] = [code, n];
  return best;
}

// ---------------------------------------------------------------------------------------------------
// The ledger: what the analyzer must find, booked record by record as the records are written.

type Booked = { cats: number; country: string | null };

function createLedger(world: World) {
  const n = world.users.length;
  const ledger = {
    rowsRead: 0,
    quarantined: 0,
    conflicts: 0,
    unmapped: new Map<string, number>(),
    /** orgs of orgs.csv named by a used record */
    orgsSeen: new Set<number>(),
    userRecords: new Int32Array(n),
    userCats: new Int32Array(n),
    userRank: new Int8Array(n),
    /** record countries, kept only for users without a country in users.csv */
    userCountries: new Map<number, Map<string, number>>(),
    deletedRecords: new Int32Array(world.deleted.length),
    deletedCats: new Int32Array(world.deleted.length),
    deletedCountries: world.deleted.map(() => new Map<string, number>()),
    quarantine() {
      ledger.rowsRead++;
      ledger.quarantined++;
    },
    /** One used record: `top` holds the event name or the profile's distinct id, `props` the properties. */
    book(kind: "event" | "profile", top: Record<string, unknown>, props: Record<string, unknown>): Booked {
      ledger.rowsRead++;
      for (const key in props) {
        if (!KNOWN_FIELDS.has(key)) ledger.unmapped.set(key, (ledger.unmapped.get(key) ?? 0) + 1);
      }
      const org = typeof props.org_id === "string" ? world.orgIndex.get(props.org_id) : undefined;
      if (org !== undefined) ledger.orgsSeen.add(org);
      return { cats: categoriesOf(kind, top, props), country: countryOf(props) };
    },
    creditUser(u: number, rank: number, rec: Booked) {
      ledger.userRecords[u] = (ledger.userRecords[u] ?? 0) + 1;
      ledger.userCats[u] = (ledger.userCats[u] ?? 0) | rec.cats;
      if (rank > (ledger.userRank[u] ?? 0)) ledger.userRank[u] = rank;
      if ((world.users[u] as User).storeCountry !== "" || !rec.country) return;
      let tally = ledger.userCountries.get(u);
      if (!tally) {
        tally = new Map();
        ledger.userCountries.set(u, tally);
      }
      tally.set(rec.country, (tally.get(rec.country) ?? 0) + 1);
    },
    creditDeleted(d: number, rec: Booked) {
      ledger.deletedRecords[d] = (ledger.deletedRecords[d] ?? 0) + 1;
      ledger.deletedCats[d] = (ledger.deletedCats[d] ?? 0) | rec.cats;
      const tally = ledger.deletedCountries[d] as Map<string, number>;
      if (rec.country) tally.set(rec.country, (tally.get(rec.country) ?? 0) + 1);
    },
  };
  return ledger;
}
type Ledger = ReturnType<typeof createLedger>;

/** The record's country as the analyzer reads it: the first two-letter code among the country fields. */
function countryOf(fields: Record<string, unknown>): string | null {
  for (const key of ["mp_country_code", "$country_code", "country"]) {
    const v = fields[key];
    if (typeof v === "string" && /^[A-Z]{2}$/.test(v.trim().toUpperCase())) return v.trim().toUpperCase();
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------

function checkOptions(options: DemoOptions): void {
  const whole = (name: "users" | "orgs" | "events", min: number) => {
    const v = options[name];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > DEMO_LIMITS.max) {
      throw usageError(`demo: ${name} must be a whole number from ${min} to ${DEMO_LIMITS.max}`);
    }
  };
  whole("users", DEMO_LIMITS.minUsers);
  whole("orgs", DEMO_LIMITS.minOrgs);
  whole("events", DEMO_LIMITS.minEvents);
  if (options.seed !== undefined && !Number.isSafeInteger(options.seed)) {
    throw usageError("demo: seed must be a whole number");
  }
  if (!options.outDir) throw usageError("demo: outDir is required");
}

export async function generateDemoIncident(options: DemoOptions): Promise<DemoManifest> {
  checkOptions(options);
  const r = randomTools(options.seed ?? 1);
  const outDir = path.resolve(options.outDir);
  const identitiesDir = path.join(outDir, "identities");
  const datasetDir = path.join(outDir, "dataset");
  const expectedDir = path.join(outDir, "expected");
  for (const dir of [identitiesDir, datasetDir, expectedDir]) await mkdir(dir, { recursive: true });

  const world = buildWorld(r, options);
  await writeIdentities(identitiesDir, world);
  const ledger = createLedger(world);
  const eventsFile = path.join(datasetDir, "mixpanel-events.jsonl.gz");
  const profilesFile = path.join(datasetDir, "mixpanel-profiles.json");
  await writeEvents(r, eventsFile, options.events, world, ledger);
  const profiles = await writeProfiles(r, profilesFile, world, ledger);
  const counts = await writeExpected(expectedDir, world, ledger);
  return {
    datasets: [eventsFile, profilesFile],
    identitiesDir,
    expectedDir,
    counts: {
      users: world.users.length,
      orgs: world.orgs.length,
      memberships: world.memberships,
      eventLines: options.events,
      profiles,
      rowsRead: ledger.rowsRead,
      rowsUsed: ledger.rowsRead - ledger.quarantined,
      quarantined: ledger.quarantined,
      ...counts,
      conflicts: ledger.conflicts,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The world: the identity store, and who appears in the vendor's data and how.

function newDevice(r: Random): Device {
  const id = r.uniqueId();
  const roll = r.next();
  if (roll < 0.1) {
    const model = r.pick(["Pixel 8", "SM-S918B", "Pixel 7a"]);
    return { id, lib: "android", os: "Android", browser: "", browserVersion: 0, model, screen: [2400, 1080] };
  }
  if (roll < 0.18) {
    const model = r.pick(["iPhone15,2", "iPhone14,5", "iPhone16,1"]);
    return { id, lib: "iphone", os: "iOS", browser: "", browserVersion: 0, model, screen: [2556, 1179] };
  }
  const os = r.weighted([
    ["Windows", 45],
    ["Mac OS X", 30],
    ["Linux", 6],
    ["Chrome OS", 4],
    ["iOS", 9],
    ["Android", 6],
  ] as const);
  const browser =
    os === "iOS"
      ? "Mobile Safari"
      : os === "Mac OS X" && r.chance(0.5)
        ? "Safari"
        : r.pick(["Chrome", "Chrome", "Firefox", "Microsoft Edge"]);
  const browserVersion = browser.endsWith("Safari") ? r.pick([16.6, 17.4, 17.5]) : 115 + r.int(12);
  const screen = r.pick([
    [1080, 1920],
    [900, 1440],
    [1440, 2560],
    [844, 390],
  ] as const);
  return { id, lib: "web", os, browser, browserVersion, model: "", screen };
}

const MALFORMED_LINES = 11;
/** The first users get one scenario each, so that even a tiny incident has them all. */
const FIXED: readonly Scenario[] = ["identified", "distinctOnly", "stitched", "emailOnly", "absent"];

function buildWorld(r: Random, options: DemoOptions): World {
  const orgs: Org[] = [];
  const orgIndex = new Map<string, number>();
  const orgWidth = Math.max(4, String(options.orgs).length);
  for (let i = 0; i < options.orgs; i++) {
    const country = r.weighted(COUNTRY_WEIGHTS);
    const id = `o_${String(i + 1).padStart(orgWidth, "0")}`;
    let name = `${r.pick(ORG_WORDS)} ${r.pick(ORG_KINDS)} ${ORG_SUFFIX[country.code] ?? ""}`.trim();
    if (i === 0) name = "Acme, Inc.";
    if (i === 1) name = '"Blue Sky" Consulting';
    orgs.push({ id, name, country: r.chance(0.1) ? "" : country.code, members: [] });
    orgIndex.set(id, i);
  }

  const users: User[] = [];
  const userWidth = Math.max(6, String(options.users).length);
  for (let i = 0; i < options.users; i++) {
    const home = r.weighted(COUNTRY_WEIGHTS);
    const first = r.pick(home.first);
    const last = r.pick(home.last);
    let name = `${first} ${last}`;
    if (home.code === "JP" && r.chance(0.3)) name = r.pick(JAPANESE_NAMES);
    if (r.chance(0.01)) name = "";
    if (i === 5) name = "Seán O'Brien, Jr.";
    if (i === 6) name = 'Dana "DJ" Jones';
    let local = `${ascii(first)}.${ascii(last)}.${i + 1}`;
    // Some stores keep the case people typed; the analyzer reports the email as written.
    if (r.chance(0.05))
      local = local.replace(/(^|\.)([a-z])/g, (_m, dot: string, c: string) => dot + c.toUpperCase());
    const countryRoll = r.next();
    const storeCountry = countryRoll < 0.08 ? "" : countryRoll < 0.1 ? home.code.toLowerCase() : home.code;
    const language = r.chance(0.01) ? "" : r.chance(0.05) ? r.pick(LANGUAGES) : home.language;
    users.push({
      id: `u_${String(i + 1).padStart(userWidth, "0")}`,
      email: `${local}@${home.domain}`,
      name,
      storeCountry,
      home,
      language,
      orgs: [],
      scenario: "absent",
      devices: [],
      sharedDevice: null,
      profile: false,
      conflictWith: -1,
    });
  }

  // Memberships: a primary org each, some users in two or three; one owner per org, some admins.
  const join = (u: number, o: number) => {
    const user = users[u] as User;
    if (user.orgs.includes(o)) return;
    user.orgs.push(o);
    (orgs[o] as Org).members.push({ user: u, role: "member" });
  };
  for (let u = 0; u < users.length; u++) {
    join(u, r.int(orgs.length));
    if (r.chance(0.2)) join(u, r.int(orgs.length));
    if (r.chance(0.05)) join(u, r.int(orgs.length));
  }
  for (let o = 0; o < orgs.length; o++)
    if ((orgs[o] as Org).members.length === 0) join(r.int(users.length), o);
  let memberships = 0;
  for (const org of orgs) {
    const owner = r.int(org.members.length);
    org.members.forEach((m, i) => {
      const roll = r.next();
      m.role = i === owner ? "owner" : roll < 0.12 ? "admin" : roll < 0.32 ? "reader" : "member";
    });
    memberships += org.members.length;
  }

  // Who is in the vendor's data, and how.
  for (let i = 0; i < users.length; i++) {
    (users[i] as User).scenario =
      FIXED[i] ??
      r.weighted([
        ["identified", 40],
        ["distinctOnly", 10],
        ["stitched", 15],
        ["emailOnly", 5],
        ["absent", 30],
      ] as const);
  }
  // Quiet orgs: none of their members is in the data, so only an org_id in a record can make them affected.
  const quiet = r
    .shuffle(orgs.map((_o, i) => i))
    .filter((o) => (orgs[o] as Org).members.every((m) => m.user >= FIXED.length))
    .slice(0, orgs.length >= 10 ? Math.max(2, Math.round(orgs.length * 0.05)) : 0);
  for (const o of quiet)
    for (const m of (orgs[o] as Org).members) (users[m.user] as User).scenario = "absent";
  const byScenario = (s: Scenario) => users.flatMap((u, i) => (u.scenario === s ? [i] : []));

  // Devices shared by two identified users (a family laptop): their anonymous events stay anonymous.
  const shared: Shared[] = [];
  const identified = r.shuffle(byScenario("identified"));
  const sharedCount = Math.min(
    Math.max(1, Math.round(users.length / 800)),
    Math.floor(identified.length / 2),
  );
  for (let k = 0; k < sharedCount; k++) {
    const pair = [identified.pop() as number, identified.pop() as number] as const;
    const device = newDevice(r);
    for (const u of pair) (users[u] as User).sharedDevice = device;
    shared.push({ device, users: pair });
  }
  // Conflicts: user A's profile carries user B's email. A wins.
  const conflictPool = r.shuffle([...identified, ...byScenario("stitched")]);
  const conflictCount = Math.min(Math.max(2, Math.round(users.length / 700)), conflictPool.length);
  for (const a of conflictPool.slice(0, conflictCount)) {
    let b = r.int(users.length);
    if (b === a) b = (b + 1) % users.length;
    (users[a] as User).conflictWith = b;
  }

  const quietOrg = (k: number): string | null => {
    const o = quiet[k % Math.max(1, quiet.length)];
    return o === undefined ? null : (orgs[o] as Org).id;
  };
  const deleted: Deleted[] = [];
  const deletedCount = Math.max(HOSTILE_NAMES.length + 4, Math.round(users.length * 0.03));
  for (let k = 0; k < deletedCount; k++) {
    const home = r.weighted(COUNTRY_WEIGHTS);
    const first = r.pick(home.first);
    const last = r.pick(home.last);
    const orgRoll = r.next();
    let org =
      orgRoll < 0.4 ? (orgs[r.int(orgs.length)] as Org).id : orgRoll < 0.55 ? `o_closed_${r.hex(6)}` : null;
    if (k === 0) org = quietOrg(0) ?? org;
    const ids = [r.uniqueId()];
    if (k === HOSTILE_NAMES.length || r.chance(0.1)) ids.push(r.uniqueId()); // a second profile, same email
    deleted.push({
      email: `${ascii(first)}${ascii(last)}${k + 1}@old-mail.example`,
      ids,
      name: HOSTILE_NAMES[k] ?? (r.chance(0.2) ? "" : `${first} ${last}`),
      home,
      org,
      withUserId: r.chance(0.5),
      device: k === HOSTILE_NAMES.length + 1 || r.chance(0.6) ? newDevice(r) : null,
    });
  }
  const visitors: Visitor[] = [];
  const visitorCount = Math.max(3, Math.round(users.length * 0.05));
  for (let k = 0; k < visitorCount; k++) {
    // Some visitors browse an org's shared pages, which names the org.
    let org = r.chance(0.05) ? (orgs[r.int(orgs.length)] as Org).id : null;
    if (k === 0) org = quietOrg(1) ?? org;
    visitors.push({ device: newDevice(r), home: r.weighted(COUNTRY_WEIGHTS), org });
  }

  // The event budget: every subject needs at least one event, a stitched user two (before and after
  // login). When there are too few, the last users are left out of the data.
  const budget = options.events - MALFORMED_LINES;
  const minimum = (u: User): number =>
    u.scenario === "stitched" ? 2 : u.scenario === "identified" || u.scenario === "distinctOnly" ? 1 : 0;
  let needed =
    users.reduce((s, u) => s + minimum(u), 0) +
    shared.length +
    visitors.length +
    deleted.filter((d) => d.device).length;
  for (let i = users.length - 1; i >= FIXED.length && needed > budget; i--) {
    const u = users[i] as User;
    if (u.sharedDevice || u.conflictWith >= 0 || minimum(u) === 0) continue;
    needed -= minimum(u);
    u.scenario = "absent";
  }
  if (needed > budget) {
    throw usageError(
      `demo: ${options.events} events are too few for ${options.users} users; use at least ${needed + MALFORMED_LINES}`,
    );
  }

  const subjects: Subject[] = [];
  const subject = (kind: Subject["kind"], ref: number, remaining: number) =>
    subjects.push({ kind, ref, remaining, anon: 0, loggedIn: false, sharedUsed: false });
  for (let i = 0; i < users.length; i++) {
    const u = users[i] as User;
    if (u.scenario === "absent") continue;
    // Most identified users have a profile; email-only users exist only as one.
    u.profile =
      u.scenario === "emailOnly" ||
      u.conflictWith >= 0 ||
      r.chance(u.scenario === "distinctOnly" ? 0.3 : 0.8);
    if (u.scenario === "emailOnly") continue;
    u.devices.push(newDevice(r));
    if (r.chance(0.25)) u.devices.push(newDevice(r));
    if (u.sharedDevice) u.devices.push(u.sharedDevice);
    subject("user", i, minimum(u));
  }
  for (let k = 0; k < shared.length; k++) subject("sharedAnon", k, 1);
  for (let k = 0; k < visitors.length; k++) subject("visitor", k, 1);
  for (let k = 0; k < deleted.length; k++) if ((deleted[k] as Deleted).device) subject("deleted", k, 1);
  // The rest of the budget, heavy-tailed: a few very active subjects, many light ones.
  const extra = budget - needed;
  const weights = subjects.map((s) => (-Math.log(1 - r.next())) ** 2 * (s.kind === "user" ? 1 : 0.3));
  const total = weights.reduce((a, b) => a + b, 0);
  let given = 0;
  subjects.forEach((s, k) => {
    const more = total > 0 ? Math.floor((extra * (weights[k] as number)) / total) : 0;
    s.remaining += more;
    given += more;
  });
  for (; given < extra; given++) (subjects[r.int(subjects.length)] as Subject).remaining++;
  for (const s of subjects) {
    if (s.kind === "user" && (users[s.ref] as User).scenario === "stitched") {
      s.anon = 1 + r.int(Math.min(s.remaining - 1, 4));
    }
  }

  return {
    users,
    orgs,
    orgIndex,
    memberships,
    shared,
    deleted,
    visitors,
    subjects,
    malformed: malformedLines(r, users),
  };
}

async function writeIdentities(dir: string, { users, orgs }: World): Promise<void> {
  await Promise.all([
    writeAll(
      path.join(dir, "users.csv"),
      (function* () {
        yield "user_id,email,name,country,language\n";
        for (const u of users) yield csvRow([u.id, u.email, u.name, u.storeCountry, u.language]);
      })(),
    ),
    writeAll(
      path.join(dir, "orgs.csv"),
      (function* () {
        yield "org_id,name,country\n";
        for (const o of orgs) yield csvRow([o.id, o.name, o.country]);
      })(),
    ),
    writeAll(
      path.join(dir, "memberships.csv"),
      (function* () {
        yield "org_id,user_id,role\n";
        for (const o of orgs)
          for (const m of o.members) yield csvRow([o.id, (users[m.user] as User).id, m.role]);
      })(),
    ),
  ]);
}

/**
 * Lines the analyzer must quarantine: truncated JSON, JSON that is not an object, and objects with no
 * distinct id, user id, device id or usable email. They carry no unmapped fields, so unmapped_fields is
 * the same whether or not the analyzer counts the fields of quarantined rows.
 */
function malformedLines(r: Random, users: readonly User[]): string[] {
  const truncated = () => {
    const u = users[r.int(users.length)] as User;
    const full = JSON.stringify({
      event: "Page Viewed",
      properties: {
        time: START + r.int(SPAN),
        distinct_id: u.id,
        $user_id: u.id,
        $insert_id: r.hex(16),
        mp_lib: "web",
      },
    });
    return full.slice(0, 20 + r.int(full.length - 25));
  };
  const t = START + r.int(SPAN);
  const lines = [
    truncated(),
    truncated(),
    truncated(),
    "42",
    '"x"',
    "[1,2,3]",
    '{"event":"x","properties":{"time":1}}',
    `{"event":"Page Viewed","properties":{"time":${t},"distinct_id":"","$email":"not an email"}}`,
    `{"event":"Page Viewed","properties":{"time":${t},"distinct_id":null,"$user_id":null,"$device_id":""}}`,
    '{"event":"Signed In","properties":"broken"}',
    `{"event":"Signed In","properties":{"time":${t},"$email":"   "}}`,
  ];
  if (lines.length !== MALFORMED_LINES) throw new Error("demo: MALFORMED_LINES is out of date");
  return lines;
}

// ---------------------------------------------------------------------------------------------------
// Events: interleaved over time, streamed to gzip.

async function writeEvents(
  r: Random,
  file: string,
  lineCount: number,
  world: World,
  ledger: Ledger,
): Promise<void> {
  const { users, orgs, shared, deleted, visitors, subjects, malformed } = world;

  const geo = (props: Record<string, unknown>, home: Country, device: Device) => {
    const roll = r.next();
    const country = r.chance(0.05) ? r.pick(COUNTRIES) : home; // now and then abroad
    if (roll < 0.88) {
      const [city, region] = r.pick(country.cities);
      props.$city = city;
      props.$region = region;
      props.mp_country_code = country.code;
    } else if (roll < 0.93) {
      props.mp_country_code = country.code;
    } else if (device.lib !== "web" && r.chance(0.5)) {
      props.$city = ""; // a failed lookup: present but empty, so it exposes nothing
    }
  };
  const deviceProps = (props: Record<string, unknown>, device: Device) => {
    props.mp_lib = device.lib;
    props.$os = device.os;
    if (device.lib === "web") {
      props.$lib_version = "2.55.1";
      props.$browser = device.browser;
      if (r.chance(0.9)) props.$browser_version = device.browserVersion;
      if (r.chance(0.7)) {
        props.$screen_height = device.screen[0];
        props.$screen_width = device.screen[1];
      }
    } else {
      props.$model = device.model;
      props.$manufacturer =
        device.lib === "iphone" ? "Apple" : device.model.startsWith("SM-") ? "samsung" : "Google";
      props.$app_version_string = r.pick(["5.12.0", "5.13.1", "5.14.0"]);
    }
  };
  const browsing = (
    props: Record<string, unknown>,
    device: Device,
    base: string,
    paths: readonly string[],
    referred: number,
  ) => {
    if (device.lib !== "web") return;
    if (r.chance(referred)) {
      const [referrer, domain] = r.pick(REFERRERS);
      props.$referrer = referrer;
      props.$referring_domain = domain;
    }
    const query =
      base === SITE && r.chance(0.2) ? `?utm_source=${r.pick(["newsletter", "google", "partner"])}` : "";
    props.$current_url = `${base}${r.pick(paths)}${query}`;
  };
  const custom = (name: string, props: Record<string, unknown>) => {
    if (name === "Document Created") props.document_type = r.pick(["contract", "invoice", "memo", "report"]);
    else if (name === "Search Performed") props.search_term_length = 3 + r.int(20);
    else if (name === "Invite Sent") props.invitee_count = 1 + r.int(5);
    else if (name === "Plan Upgraded") props.plan = r.pick(["team", "business", "enterprise"]);
  };
  const finish = (name: string, props: Record<string, unknown>) => {
    props.mp_processing_time_ms = Number(props.time) * 1000 + 200 + r.int(5000);
    const booked = ledger.book("event", { event: name }, props);
    return { line: JSON.stringify({ event: name, properties: props }), booked };
  };
  /** An event before anyone logged in on the device: distinct id $device:<id>. */
  const anonymous = (time: number, device: Device, home: Country, org: string | null) => {
    const name = r.pick(ANON_EVENTS);
    const props: Record<string, unknown> = {
      time,
      distinct_id: `${DEVICE_PREFIX}${device.id}`,
      $device_id: device.id,
      $insert_id: r.hex(16),
    };
    deviceProps(props, device);
    geo(props, home, device);
    browsing(props, device, SITE, SITE_PATHS, 0.5);
    if (org) props.org_id = org;
    return finish(name, props);
  };

  const emit = (s: Subject, time: number): string => {
    if (s.kind === "sharedAnon") {
      const { device, users: pair } = shared[s.ref] as Shared;
      return anonymous(time, device, (users[pair[0]] as User).home, null).line; // nobody's: anonymous
    }
    if (s.kind === "visitor") {
      const v = visitors[s.ref] as Visitor;
      return anonymous(time, v.device, v.home, v.org).line;
    }
    if (s.kind === "deleted") {
      const d = deleted[s.ref] as Deleted;
      const device = d.device as Device;
      const id = d.ids[0] as string;
      const name = r.pick(USER_EVENTS);
      const props: Record<string, unknown> = { time, distinct_id: id, $device_id: device.id };
      if (d.withUserId) props.$user_id = id;
      props.$insert_id = r.hex(16);
      deviceProps(props, device);
      geo(props, d.home, device);
      browsing(props, device, APP, APP_PATHS, 0.1);
      if (d.org && r.chance(0.7)) props.org_id = d.org;
      custom(name, props);
      const { line, booked } = finish(name, props);
      ledger.creditDeleted(s.ref, booked);
      return line;
    }
    const u = users[s.ref] as User;
    if (u.scenario === "stitched" && s.anon > 0) {
      s.anon--;
      const { line, booked } = anonymous(time, u.devices[0] as Device, u.home, null);
      ledger.creditUser(s.ref, RANK.device, booked); // linked by the device only this user uses
      return line;
    }
    let device = r.pick(u.devices);
    let name: string = r.pick(USER_EVENTS);
    if (u.scenario === "stitched" && !s.loggedIn) {
      device = u.devices[0] as Device; // the login happens on the device used anonymously before
      name = "Signed In";
      s.loggedIn = true;
    } else if (u.sharedDevice && !s.sharedUsed) {
      device = u.sharedDevice;
      s.sharedUsed = true;
    }
    const props: Record<string, unknown> = { time, distinct_id: u.id };
    if (u.scenario !== "distinctOnly" || r.chance(0.7)) props.$device_id = device.id;
    if (u.scenario !== "distinctOnly") props.$user_id = u.id;
    props.$insert_id = r.hex(16);
    deviceProps(props, device);
    geo(props, u.home, device);
    browsing(props, device, APP, APP_PATHS, 0.15);
    if (r.chance(0.75)) props.org_id = (orgs[r.pick(u.orgs)] as Org).id;
    custom(name, props);
    const { line, booked } = finish(name, props);
    ledger.creditUser(s.ref, u.scenario === "distinctOnly" ? RANK.distinctId : RANK.userId, booked);
    return line;
  };

  // Broken lines go anywhere but first: the analyzer tells the format from the first well-formed line.
  const slots = new Set<number>();
  while (slots.size < malformed.length) slots.add(1 + r.int(lineCount - 1));
  const broken = new Map([...slots].sort((a, b) => a - b).map((slot, k) => [slot, malformed[k] as string]));
  const blankAfter = Math.floor(lineCount / 3);
  const active = subjects.flatMap((s, k) => (s.remaining > 0 ? [k] : []));
  const sink = openSink(file, true);
  for (let slot = 0; slot < lineCount; slot++) {
    const time = START + Math.floor((slot * SPAN) / lineCount);
    let line = broken.get(slot);
    if (line === undefined) {
      const k = r.int(active.length);
      const s = subjects[active[k] as number] as Subject;
      line = emit(s, time);
      if (--s.remaining === 0) {
        active[k] = active[active.length - 1] as number;
        active.pop();
      }
    } else {
      ledger.quarantine();
    }
    // One blank line, which the analyzer ignores and does not count.
    if (sink.push(slot === blankAfter ? `${line}\n\n` : `${line}\n`)) await sink.flush();
  }
  await sink.close();
  if (active.length > 0) throw new Error("demo: internal error, events left unwritten");
}

// ---------------------------------------------------------------------------------------------------
// Profiles: one engage API page.

async function writeProfiles(r: Random, file: string, world: World, ledger: Ledger): Promise<number> {
  const { users, orgs, deleted } = world;
  type Ref = { kind: "user"; ref: number } | { kind: "deleted"; ref: number; copy: number };
  const refs: Ref[] = [];
  users.forEach((u, i) => {
    if (u.profile) refs.push({ kind: "user", ref: i });
  });
  deleted.forEach((d, k) => {
    for (let copy = 0; copy < d.ids.length; copy++) refs.push({ kind: "deleted", ref: k, copy });
  });
  r.shuffle(refs);

  const common = (home: Country, device: Device | null | undefined, props: Record<string, unknown>) => {
    if (r.chance(0.85)) {
      const [city, region] = r.pick(home.cities);
      props.$city = city;
      props.$region = region;
      props.$country_code = r.chance(0.05) ? home.code.toLowerCase() : home.code;
    }
    if (device && r.chance(0.7)) {
      props.$os = device.os;
      if (device.browser) props.$browser = device.browser;
    }
    if (r.chance(0.5)) props.$timezone = home.timezone;
    if (r.chance(0.5)) props.$created = isoSeconds(START - 86400 * 30 - r.int(86400 * 900));
    props.$last_seen = isoSeconds(START + r.int(SPAN));
  };

  const profile = (p: Ref): string => {
    let distinctId: string;
    const props: Record<string, unknown> = {};
    if (p.kind === "deleted") {
      const d = deleted[p.ref] as Deleted;
      distinctId = d.ids[p.copy] as string;
      // A second profile carries the same email in another case, with spaces around it.
      props.$email = p.copy === 0 ? d.email : `  ${otherCase(d.email)} `;
      if (p.copy === 0 && d.name) props.$name = d.name;
      common(d.home, d.device, props);
      if (d.org && p.copy === 0) props.org_id = d.org;
      ledger.creditDeleted(p.ref, ledger.book("profile", { $distinct_id: distinctId }, props));
    } else {
      const u = users[p.ref] as User;
      let rank: number = RANK.distinctId;
      if (u.scenario === "emailOnly") {
        distinctId = r.uniqueId(); // opaque; only the email leads to the user
        props.$email = `${r.pick([" ", "  "])}${otherCase(u.email)}  `;
        rank = RANK.email;
      } else if (u.conflictWith >= 0) {
        const other = (users[u.conflictWith] as User).email;
        distinctId = u.id;
        props.$email = r.chance(0.5) ? other : otherCase(other);
        ledger.conflicts++;
      } else {
        distinctId = u.id;
        props.$email = r.chance(0.3) ? u.email.toLowerCase() : u.email;
      }
      if (u.name && r.chance(0.9)) props.$name = u.name;
      if (r.chance(0.15)) props.$phone = `${u.home.phone} ${100 + r.int(900)} ${1000000 + r.int(9000000)}`;
      common(u.home, u.devices[0], props);
      if (r.chance(0.6)) props.org_id = (orgs[u.orgs[0] as number] as Org).id;
      ledger.creditUser(p.ref, rank, ledger.book("profile", { $distinct_id: distinctId }, props));
    }
    return JSON.stringify({ $distinct_id: distinctId, $properties: props });
  };

  const session = `${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)}`;
  await writeAll(
    file,
    (function* () {
      const n = refs.length;
      yield `{"page":0,"page_size":${n},"session_id":"${session}","status":"ok","total":${n},"results":[\n`;
      for (let k = 0; k < n; k++) yield `${profile(refs[k] as Ref)}${k < n - 1 ? "," : ""}\n`;
      yield "]}\n";
    })(),
  );
  return refs.length;
}

// ---------------------------------------------------------------------------------------------------
// Expected results, from the ledger.

type ExpectedCounts = Pick<
  DemoCounts,
  "matched" | "unmatchedWithEmail" | "anonymous" | "affectedPeople" | "affectedOrgs" | "adminsToNotify"
>;

async function writeExpected(dir: string, world: World, ledger: Ledger): Promise<ExpectedCounts> {
  const { users, orgs, deleted } = world;
  type Person = { key: string; cells: (string | number)[]; cats: number; country: string };
  const people: Person[] = [];
  const affectedOrgs = new Set(ledger.orgsSeen);
  const affectedMembers = new Map<number, number>();
  users.forEach((u, i) => {
    const records = ledger.userRecords[i] ?? 0;
    if (records === 0) return;
    const country = u.storeCountry.toUpperCase() || mostFrequent(ledger.userCountries.get(i));
    const cats = ledger.userCats[i] ?? 0;
    const matchedBy = RANKS[ledger.userRank[i] ?? 0] ?? "";
    const key = `user:${u.id}`;
    people.push({
      key,
      cats,
      country,
      cells: [key, u.id, u.email, u.name, country, u.language, matchedBy, records],
    });
    for (const o of u.orgs) {
      affectedOrgs.add(o);
      affectedMembers.set(o, (affectedMembers.get(o) ?? 0) + 1);
    }
  });
  const matched = people.length;
  deleted.forEach((d, k) => {
    const country = mostFrequent(ledger.deletedCountries[k]);
    const key = `email:${d.email}`;
    const records = ledger.deletedRecords[k] ?? 0;
    const cats = ledger.deletedCats[k] ?? 0;
    people.push({
      key,
      cats,
      country,
      cells: [key, "", d.email, d.name, country, "", "dataset_email", records],
    });
  });
  people.sort((a, b) => byText(a.key, b.key));

  const admins = new Set<number>();
  const orgRows: string[] = [];
  for (const o of [...affectedOrgs].sort((a, b) => a - b)) {
    const org = orgs[o] as Org;
    const emails: string[] = [];
    for (const m of org.members) {
      if (m.role !== "owner" && m.role !== "admin") continue;
      admins.add(m.user);
      emails.push((users[m.user] as User).email);
    }
    orgRows.push(safeRow([org.id, org.name, affectedMembers.get(o) ?? 0, emails.sort(byText).join(";")]));
  }

  const byCategory = new Map<string, number>();
  const byCountry = new Map<string, number>();
  for (const p of people) {
    for (const c of CATEGORIES) if (p.cats & bit(c)) byCategory.set(c, (byCategory.get(c) ?? 0) + 1);
    const country = p.country || "unknown";
    byCountry.set(country, (byCountry.get(country) ?? 0) + 1);
  }
  const sorted = (m: ReadonlyMap<string, number>) =>
    Object.fromEntries([...m].sort(([a], [b]) => byText(a, b)));
  const anonymous = world.shared.length + world.visitors.length;
  const summary = {
    rows: {
      read: ledger.rowsRead,
      used: ledger.rowsRead - ledger.quarantined,
      quarantined: ledger.quarantined,
    },
    subjects: { matched, unmatched_with_email: deleted.length, anonymous },
    affected_people: people.length,
    affected_orgs: affectedOrgs.size,
    admins_to_notify: admins.size,
    conflicts: ledger.conflicts,
    by_category: sorted(byCategory),
    by_country: sorted(byCountry),
    unmapped_fields: sorted(ledger.unmapped),
  };

  await Promise.all([
    writeAll(path.join(dir, "summary.json"), [`${JSON.stringify(summary, null, 2)}\n`]),
    writeAll(
      path.join(dir, "people.csv"),
      (function* () {
        yield "person_key,user_id,email,name,country,language,categories,matched_by,records\n";
        for (const p of people) {
          const categories = CATEGORIES.filter((c) => p.cats & bit(c)).join(";");
          const cells = [...p.cells];
          cells.splice(6, 0, categories);
          yield safeRow(cells);
        }
      })(),
    ),
    writeAll(path.join(dir, "orgs.csv"), ["org_id,name,affected_members,admin_emails\n", ...orgRows]),
  ]);
  return {
    matched,
    unmatchedWithEmail: deleted.length,
    anonymous,
    affectedPeople: people.length,
    affectedOrgs: affectedOrgs.size,
    adminsToNotify: admins.size,
  };
}
