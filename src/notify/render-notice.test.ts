import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { parse as parseYaml } from "yaml";
import { AppError } from "../lib/errors.ts";
import { AUDIENCES, type Audience, type NoticeSettings, type Recipient } from "./notice-types.ts";
import { labelFor, renderNotice, resolveLocale, SHIPPED_LOCALES } from "./render-notice.ts";

const SHIPPED_DIR = fileURLToPath(new URL("./templates/", import.meta.url));
const escapeHtml = (text: string) => Handlebars.Utils.escapeExpression(text);
// Text is wrapped and dates hold no-break spaces, so compare with all whitespace as one space.
const flat = (text: string) => text.replace(/\s+/g, " ");

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempTemplates(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "blastradius-templates-"));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

function isAppError(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.equal(error.code, "BAD_INPUT");
    assert.match(error.message, pattern);
    return true;
  };
}

const EXPOSED = [
  "user.behavior",
  "user.behavior.browsing_history",
  "user.contact.address",
  "user.contact.email",
  "user.contact.phone_number",
  "user.demographic",
  "user.device",
  "user.device.cookie_id",
  "user.device.device_id",
  "user.device.ip_address",
  "user.health_and_medical",
  "user.location.coarse",
  "user.location.precise",
  "user.name",
  "user.unique_id",
];
const NOT_EXPOSED_KEYS = [
  "passwords",
  "api_keys",
  "payment_data",
  "conversation_content",
  "government_id",
  "user.authorization.credentials",
  "user.financial",
  "user.content",
];
const REQUIRED_LABELS = [
  "user",
  "user.name",
  "user.contact",
  "user.contact.email",
  "user.contact.phone_number",
  "user.contact.address",
  "user.location",
  "user.location.coarse",
  "user.location.precise",
  "user.device",
  "user.device.device_id",
  "user.device.ip_address",
  "user.device.cookie_id",
  "user.unique_id",
  "user.behavior",
  "user.behavior.browsing_history",
  "user.authorization",
  "user.authorization.credentials",
  "user.financial",
  "user.content",
  "user.government_id",
  "user.demographic",
  "user.health_and_medical",
  "passwords",
  "api_keys",
  "payment_data",
  "conversation_content",
  "government_id",
];

function settings(overrides: Partial<NoticeSettings> = {}): NoticeSettings {
  return {
    company: "Acme Analytics",
    vendor: "Mixpanel",
    incidentStart: "2025-11-01",
    incidentEnd: "2025-11-08",
    discoveredAt: "2025-11-09T10:00:00Z",
    notExposed: [...NOT_EXPOSED_KEYS, "Support tickets"],
    senderDomains: ["acme.example", "mail.acme.example"],
    contact: "security@acme.example",
    localeDefault: "en",
    templatesDir: null,
    ...overrides,
  };
}

function recipient(audience: Audience, locale: string | null, overrides: Partial<Recipient> = {}): Recipient {
  const half = Math.ceil(EXPOSED.length / 2);
  return {
    email: "ana@example.com",
    name: "Ana Souza",
    locale,
    country: null,
    categories: EXPOSED,
    orgs:
      audience === "admins"
        ? [
            { org_id: "org_1", name: "Acme Labs", affected_members: 1, categories: EXPOSED.slice(0, half) },
            { org_id: "org_2", name: null, affected_members: 3, categories: EXPOSED.slice(half) },
          ]
        : [],
    ...overrides,
  };
}

describe("shipped templates", () => {
  it("ship every locale with its three files, and nothing else", () => {
    const folders = readdirSync(SHIPPED_DIR).sort();
    assert.deepEqual(folders, [...SHIPPED_LOCALES].sort());
    for (const locale of SHIPPED_LOCALES) {
      assert.deepEqual(readdirSync(path.join(SHIPPED_DIR, locale)).sort(), [
        "admins.yaml",
        "labels.yaml",
        "users.yaml",
      ]);
    }
  });

  it("name every required category and not-exposed item in every locale", () => {
    for (const locale of SHIPPED_LOCALES) {
      const labels = (
        parseYaml(readFileSync(path.join(SHIPPED_DIR, locale, "labels.yaml"), "utf8")) as {
          labels: Record<string, string>;
        }
      ).labels;
      for (const key of REQUIRED_LABELS) assert.ok(labels[key], `${locale}: no label for ${key}`);
    }
  });

  it("never use {{{ }}} or {{& }} in any template", () => {
    for (const locale of SHIPPED_LOCALES) {
      for (const audience of AUDIENCES) {
        const source = readFileSync(path.join(SHIPPED_DIR, locale, `${audience}.yaml`), "utf8");
        assert.doesNotMatch(source, /\{\{\{|\{\{&/, `${locale}/${audience}.yaml`);
      }
    }
  });
});

for (const locale of SHIPPED_LOCALES) {
  for (const audience of AUDIENCES) {
    describe(`${locale} ${audience} notice`, () => {
      const notice = renderNotice(audience, recipient(audience, locale), settings());
      const text = flat(notice.text);

      it("is rendered in its own locale", () => {
        assert.equal(notice.locale, locale);
        assert.ok(notice.html.includes(`<html lang="${locale}">`));
      });

      it("names every exposed category with this locale's label", () => {
        for (const key of EXPOSED) {
          const label = labelFor(locale, key);
          assert.notEqual(label, key, `${locale}: ${key} has no label`);
          assert.ok(text.includes(flat(label)), `${locale} text lacks ${label}`);
          assert.ok(notice.html.includes(escapeHtml(label)), `${locale} html lacks ${label}`);
          const english = labelFor("en", key);
          if (locale !== "en" && english !== label) {
            assert.ok(!text.includes(flat(english)), `${locale} text has the English ${english}`);
          }
        }
      });

      it("names everything that was not exposed", () => {
        for (const key of NOT_EXPOSED_KEYS) {
          const label = labelFor(locale, key);
          assert.ok(text.includes(flat(label)), `${locale} text lacks ${label}`);
          assert.ok(notice.html.includes(escapeHtml(label)), `${locale} html lacks ${label}`);
        }
        assert.ok(text.includes("Support tickets"));
        assert.ok(notice.html.includes("Support tickets"));
      });

      it("names the vendor, the company, the contact and the sender domains", () => {
        for (const value of ["Mixpanel", "Acme Analytics", "security@acme.example", "@acme.example"]) {
          assert.ok(text.includes(value), `${locale} text lacks ${value}`);
          assert.ok(notice.html.includes(value), `${locale} html lacks ${value}`);
        }
        assert.ok(text.includes("@mail.acme.example"));
        assert.ok(notice.html.includes('href="mailto:security@acme.example"'));
        assert.ok(notice.subject.includes("Mixpanel"));
      });

      it("gives the dates in the locale's long style", () => {
        const long = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" });
        for (const date of ["2025-11-08", "2025-11-09"]) {
          const formatted = flat(long.format(new Date(date)));
          assert.ok(text.includes(formatted), `${locale} text lacks ${formatted}`);
          assert.ok(flat(notice.html).includes(formatted), `${locale} html lacks ${formatted}`);
        }
      });

      it("recommends multi-factor authentication", () => {
        assert.match(text, /MFA/);
        assert.match(notice.html, /MFA/);
      });

      it("has a one-line subject and readable text", () => {
        assert.ok(notice.subject.length > 10);
        assert.doesNotMatch(notice.subject, /[\r\n]/);
        assert.doesNotMatch(notice.text, /\r/);
        for (const line of notice.text.split("\n")) assert.ok(line.length <= 76, `too long: ${line}`);
        assert.doesNotMatch(notice.text, /\n\n\n/);
        assert.doesNotMatch(notice.text, /\{\{|\}\}/);
        assert.doesNotMatch(notice.html, /\{\{|\}\}/);
      });

      if (audience === "admins") {
        it("lists each organisation with its members in words", () => {
          assert.ok(text.includes("Acme Labs"));
          assert.ok(text.includes("org_2"), "an organisation without a name is shown by its id");
          assert.ok(notice.html.includes("Acme Labs"));
        });
      }
    });
  }
}

describe("hostile values", () => {
  const hostile = (audience: Audience, locale: string, name: string) =>
    renderNotice(
      audience,
      recipient(audience, locale, {
        name,
        orgs:
          audience === "admins"
            ? [
                {
                  org_id: "o1",
                  name: "<img src=x onerror=alert(1)>",
                  affected_members: 2,
                  categories: EXPOSED,
                },
              ]
            : [],
      }),
      settings({ company: "Evil\r\nBcc: x@evil.test", vendor: "<b>Mixpanel</b>" }),
    );

  for (const locale of SHIPPED_LOCALES) {
    for (const audience of AUDIENCES) {
      it(`cannot inject into the ${locale} ${audience} notice`, () => {
        const script = hostile(audience, locale, "<script>alert(1)</script>");
        assert.doesNotMatch(script.html, /<script|<img|<b>/i);
        assert.ok(script.html.includes(escapeHtml("<script>alert(1)</script>")));
        assert.ok(script.html.includes(escapeHtml("<b>Mixpanel</b>")));
        if (audience === "admins") {
          assert.ok(script.html.includes(escapeHtml("<img src=x onerror=alert(1)>")));
          assert.ok(script.html.includes("&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;"));
        }

        const crlf = hostile(audience, locale, "Eve\r\nBcc: x@evil.test\u2028To: y@evil.test");
        for (const part of [crlf.subject, crlf.text, crlf.html]) {
          assert.doesNotMatch(part, /\r|\u2028/);
          assert.doesNotMatch(part, /Eve\s*\n|Evil\s*\n\s*Bcc/);
        }
        assert.doesNotMatch(crlf.subject, /\n/);
        assert.ok(crlf.subject.includes("Evil Bcc: x@evil.test"));
        assert.ok(flat(crlf.text).includes("Eve Bcc: x@evil.test To: y@evil.test"));

        const formula = hostile(audience, locale, "=cmd|' /C calc'!A0");
        assert.ok(formula.text.includes("=cmd|' /C calc'!A0"));
        assert.ok(formula.html.includes(escapeHtml("=cmd|' /C calc'!A0")));
        assert.ok(!formula.html.includes("=cmd|'"));
      });
    }
  }

  it("caps long values and drops control characters", () => {
    const notice = renderNotice(
      "users",
      recipient("users", "en", { name: `\u0000${"A".repeat(5000)}\u0007` }),
      settings(),
    );
    assert.ok(!notice.text.includes("A".repeat(201)));
    assert.ok(notice.text.includes("A".repeat(200)));
    assert.ok(![...notice.text].some((c) => c < " " && c !== "\n"), "a control character is left");
  });

  it("refuses an unknown audience rather than building a path from it", () => {
    assert.throws(
      () => renderNotice("../users" as Audience, recipient("users", "en"), settings()),
      isAppError(/audience/),
    );
  });
});

describe("neutral wording", () => {
  it("greets without a name and names no vendor, company or unknown date", () => {
    const notice = renderNotice(
      "users",
      recipient("users", "en", { name: null }),
      settings({ company: null, vendor: null, incidentStart: null, incidentEnd: null, discoveredAt: null }),
    );
    assert.match(notice.text, /^Hello,\n/);
    assert.match(notice.subject, /one of our service providers/);
    assert.match(flat(notice.text), /one of the service providers we use/);
    assert.doesNotMatch(notice.text, /null|undefined|discovered|took place/);
    assert.doesNotMatch(notice.html, /null|undefined|discovered|took place/);
  });

  it("says a not-exposed item without a label as written, never as its parent", () => {
    const notice = renderNotice(
      "users",
      recipient("users", "de"),
      settings({ notExposed: ["user.contact.fax"] }),
    );
    assert.ok(notice.text.includes("user.contact.fax"));
  });

  it("links an https contact and refuses to link anything else", () => {
    const url = renderNotice(
      "users",
      recipient("users", "fr"),
      settings({ contact: "https://acme.example/help" }),
    );
    assert.ok(url.html.includes('href="https://acme.example/help"'));
    const js = renderNotice("users", recipient("users", "fr"), settings({ contact: "javascript:alert(1)" }));
    assert.doesNotMatch(js.html, /href="javascript/);
  });

  it("refuses a date that is not a date", () => {
    assert.throws(
      () => renderNotice("users", recipient("users", "en"), settings({ incidentStart: "2025-02-30" })),
      isAppError(/incidentStart/),
    );
  });
});

describe("plural forms", () => {
  const members = (locale: string, counts: number[]) => {
    const notice = renderNotice(
      "admins",
      recipient("admins", locale, {
        orgs: counts.map((n, i) => ({
          org_id: `o${i}`,
          name: `Org ${i}`,
          affected_members: n,
          categories: EXPOSED,
        })),
      }),
      settings(),
    );
    return flat(notice.text);
  };

  it("says 1 member and 3 members in English", () => {
    const text = members("en", [1, 3]);
    assert.ok(text.includes("Org 0 (1 affected member)"));
    assert.ok(text.includes("Org 1 (3 affected members)"));
  });

  it("says 1 membre and 3 membres in French", () => {
    const text = members("fr", [1, 3]);
    assert.ok(text.includes("(1 membre concerné)"));
    assert.ok(text.includes("(3 membres concernés)"));
  });

  it("says 1 Mitglied and 3 Mitglieder in German, with the locale's digits", () => {
    const text = members("de", [1, 3, 1234]);
    assert.ok(text.includes("(1 betroffenes Mitglied)"));
    assert.ok(text.includes("(3 betroffene Mitglieder)"));
    assert.ok(text.includes("(1.234 betroffene Mitglieder)"));
  });

  it("speaks of one organisation or several", () => {
    assert.match(members("en", [3]), /Affected organization (?!s)/);
    assert.doesNotMatch(members("en", [3]), /organizations/);
    assert.match(members("en", [1, 3]), /Affected organizations /);
  });
});

describe("resolveLocale", () => {
  const base = { localeDefault: "de", templatesDir: null };

  it("normalises case and separators", () => {
    assert.equal(resolveLocale("pt_br", base, "users"), "pt-BR");
    assert.equal(resolveLocale("PT-br", base, "users"), "pt-BR");
    assert.equal(resolveLocale("fr_FR.UTF-8", base, "users"), "fr");
    assert.equal(resolveLocale(" IT ", base, "admins"), "it");
    assert.equal(resolveLocale("en-US-u-ca-buddhist", base, "users"), "en");
  });

  it("falls back to the language, then to another region of it", () => {
    assert.equal(resolveLocale("pt-PT", base, "users"), "pt-BR");
    assert.equal(resolveLocale("pt", base, "users"), "pt-BR");
    assert.equal(resolveLocale("de-AT", base, "users"), "de");
    assert.equal(resolveLocale("en-GB", base, "users"), "en");
    assert.equal(resolveLocale("es-419", base, "users"), "es");
  });

  it("falls back to localeDefault, then English", () => {
    assert.equal(resolveLocale("xx", base, "users"), "de");
    assert.equal(resolveLocale(null, base, "users"), "de");
    assert.equal(resolveLocale("xx", { localeDefault: "fr-CA", templatesDir: null }, "users"), "fr");
    assert.equal(resolveLocale("xx", { localeDefault: "yy", templatesDir: null }, "users"), "en");
  });

  it("never takes a path-like or malformed string", () => {
    for (const bad of [
      "../../etc",
      "../de",
      "de/../../x",
      "de\u0000",
      "en_US;rm",
      "ä",
      "",
      " ",
      "e",
      "toolong",
    ]) {
      assert.equal(resolveLocale(bad, base, "users"), "de", bad);
    }
  });
});

describe("labelFor", () => {
  it("uses the key, then its nearest parent, then English, then the key", () => {
    assert.equal(labelFor("de", "user.contact.phone_number"), "Telefonnummer");
    assert.equal(labelFor("de", "user.contact.fax"), labelFor("de", "user.contact"));
    assert.equal(labelFor("de", "user.contact.fax"), "Kontaktdaten");
    assert.equal(labelFor("de", "user.something.new"), "Personenbezogene Daten");
    assert.equal(labelFor("pt_br", "user.contact.email"), "Endereço de e-mail");
    assert.equal(labelFor("xx", "user.contact.email"), "Email address");
    assert.equal(labelFor("de", "custom_thing"), "custom_thing");
  });

  it("falls back to English for a locale whose labels lack the key", () => {
    const dir = tempTemplates({ "nl/labels.yaml": "labels:\n  user.name: Naam\n" });
    assert.equal(labelFor("nl", "user.name", dir), "Naam");
    assert.equal(labelFor("nl", "user.contact.email", dir), "Email address");
  });
});

describe("templatesDir", () => {
  it("overrides only what it has", () => {
    const dir = tempTemplates({ "de/users.yaml": 'subject: "Eigener Betreff: {{vendor}}"\n' });
    const shipped = renderNotice("users", recipient("users", "de"), settings());
    const custom = renderNotice("users", recipient("users", "de"), settings({ templatesDir: dir }));
    assert.equal(custom.subject, "Eigener Betreff: Mixpanel");
    assert.equal(custom.text, shipped.text);
    // The html repeats the subject in its title, and nothing else changes.
    assert.equal(custom.html.replaceAll(custom.subject, shipped.subject), shipped.html);
    const admins = renderNotice("admins", recipient("admins", "de"), settings({ templatesDir: dir }));
    assert.equal(admins.subject, renderNotice("admins", recipient("admins", "de"), settings()).subject);
    const french = renderNotice("users", recipient("users", "fr"), settings({ templatesDir: dir }));
    assert.equal(french.subject, renderNotice("users", recipient("users", "fr"), settings()).subject);
  });

  it("adds a locale of its own for the audiences it has", () => {
    const dir = tempTemplates({
      "nl/users.yaml": [
        'subject: "Beveiligingsincident bij {{vendor}}"',
        'text: "Hallo {{name}}"',
        'html: "<p>Hallo {{name}}</p>"',
        "",
      ].join("\n"),
    });
    const options = { localeDefault: "en", templatesDir: dir };
    assert.equal(resolveLocale("nl-BE", options, "users"), "nl");
    assert.equal(resolveLocale("nl-BE", options, "admins"), "en");
    const notice = renderNotice("users", recipient("users", "nl", { name: "<b>Jan</b>" }), settings(options));
    assert.equal(notice.locale, "nl");
    assert.equal(notice.html, "<p>Hallo &lt;b&gt;Jan&lt;/b&gt;</p>\n");
  });

  it("rejects a file that is not YAML, naming it", () => {
    const dir = tempTemplates({ "de/users.yaml": "subject: [unclosed\ntext: x\n" });
    const file = path.join(dir, "de", "users.yaml");
    assert.throws(
      () => renderNotice("users", recipient("users", "de"), settings({ templatesDir: dir })),
      isAppError(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*not valid YAML`)),
    );
  });

  it("rejects a template that does not compile, naming the file and key", () => {
    const dir = tempTemplates({ "fr/admins.yaml": 'text: "{{#if vendor}}no end"\n' });
    assert.throws(
      () => renderNotice("admins", recipient("admins", "fr"), settings({ templatesDir: dir })),
      isAppError(/fr[/\\]admins\.yaml: key "text" is not a valid template/),
    );
  });

  it("rejects unescaped output in html, unknown fields and helpers, and unknown keys", () => {
    const cases: [string, RegExp][] = [
      ['html: "<p>{{{name}}}</p>"\n', /key "html" uses \{\{\{ \}\}\}/],
      ['html: "<p>{{& name}}</p>"\n', /key "html" uses \{\{\{ \}\}\}/],
      ['text: "{{nmae}}"\n', /key "text" uses an unknown field "nmae"/],
      ['text: "{{> header}}"\n', /key "text" uses a partial/],
      ['text: "{{shout name}}"\n', /key "text" (uses an unknown field|cannot be compiled)/],
      ['subjet: "x"\n', /unknown key "subjet"/],
    ];
    for (const [source, pattern] of cases) {
      const dir = tempTemplates({ "it/users.yaml": source });
      assert.throws(
        () => renderNotice("users", recipient("users", "it"), settings({ templatesDir: dir })),
        isAppError(pattern),
        source,
      );
    }
  });

  it("rejects a missing folder", () => {
    assert.throws(
      () => resolveLocale("de", { localeDefault: "en", templatesDir: "/nonexistent/blastradius" }, "users"),
      isAppError(/cannot read the templates folder/),
    );
  });
});
