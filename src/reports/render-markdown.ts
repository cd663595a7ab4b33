import type { Block, ReportDocument, Span } from "./document.ts";

/**
 * A report as CommonMark with GitHub tables. Every text is escaped, since titles, notes, rationales,
 * file names and categories come from users and datasets: none can open a link, an image, HTML, a
 * heading or a table cell of its own. Line breaks inside a value become spaces.
 */

// Inline markup characters (and & for entities, | for table cells), escaped wherever they occur.
// An underscore inside a word (user.unique_id) cannot open or close emphasis, so it stays as it is.
const INLINE = /[\\`*[\]<>|#~&!]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu;
// What starts a block only at the beginning of a line: list items, ordered items, setext underlines.
const LINE_START = /^(\s*)([-+=](?=[\s=-]|$)|\d{1,9}(?=[.)](?:\s|$)))/;

export function escapeMarkdown(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  return flat
    .replace(INLINE, (ch) => `\\${ch}`)
    .replace(LINE_START, (_m, space: string, lead: string) =>
      /^\d/.test(lead) ? `${space}${lead}\\` : `${space}\\${lead}`,
    );
}

function span(s: Span): string {
  if (typeof s === "string") return escapeMarkdown(s);
  // Placeholders are our own text: their brackets stay so that they can be searched for.
  const text = s.placeholder ? s.text.replace(/\s+/g, " ") : escapeMarkdown(s.text);
  if (!s.strong && !s.placeholder) return text;
  // Emphasis must not start or end with a space ("**Incident: **" is not bold): keep spaces outside.
  const [, before = "", inner = "", after = ""] = /^(\s*)(.*?)(\s*)$/s.exec(text) ?? [];
  return inner ? `${before}**${inner}**${after}` : text;
}

const line = (spans: Span[]) =>
  spans
    .map(span)
    .join("")
    .trim()
    // "1." opening a paragraph built of several spans is escaped where the spans meet too
    .replace(/^(\d{1,9})([.)])(?=\s|$)/, "$1\\$2");

function block(b: Block): string {
  switch (b.type) {
    case "subheading":
      return `### ${escapeMarkdown(b.text).trim()}`;
    case "paragraph":
      return line(b.spans);
    case "bullets":
      return b.items.map((item) => `- ${line(item)}`).join("\n");
    case "table": {
      const cell = (text: string) => escapeMarkdown(text).trim() || " ";
      const head = `| ${b.columns.map(cell).join(" | ")} |`;
      const rule = `|${b.columns.map((_, i) => (b.numeric?.[i] ? "---:" : "---")).join("|")}|`;
      const rows = b.rows.map((r) => `| ${b.columns.map((_, i) => cell(r[i] ?? "")).join(" | ")} |`);
      return [head, rule, ...rows].join("\n");
    }
  }
}

export function renderMarkdown(doc: ReportDocument): string {
  const parts = [`# ${escapeMarkdown(doc.title).trim()}`, doc.lead.map(line).join("  \n")];
  for (const section of doc.sections) {
    parts.push(`## ${escapeMarkdown(section.heading).trim()}`);
    for (const b of section.blocks) parts.push(block(b));
  }
  return `${parts.filter((x) => x !== "").join("\n\n")}\n`;
}
