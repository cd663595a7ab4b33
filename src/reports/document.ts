/**
 * The structured document every report is built as, and that render-markdown.ts and render-pdf.ts
 * both draw: a title, a few lines under it, and sections of paragraphs, sub-headings, bullet lists
 * and tables. Every text here is plain text (the renderers escape it); only the span kinds carry
 * emphasis, so nothing a user or a dataset wrote can turn into markup.
 */

/** A run of text; `placeholder` marks what a person must complete before the report is used. */
export type Span = string | { text: string; strong?: boolean; placeholder?: boolean };

export type Block =
  | { type: "subheading"; text: string }
  | { type: "paragraph"; spans: Span[] }
  | { type: "bullets"; items: Span[][] }
  | {
      type: "table";
      columns: string[];
      rows: string[][];
      /** right-aligned columns (numbers) */
      numeric?: boolean[];
    };

export type Section = { heading: string; blocks: Block[] };

export type ReportDocument = {
  title: string;
  /** short lines under the title: what, which incident, when made */
  lead: Span[][];
  sections: Section[];
  /** generation time (ISO-8601): the PDF's creation date, so the same input gives the same file */
  generatedAt: string;
};

export const TO_COMPLETE = "[to complete]";

export const p = (...spans: Span[]): Block => ({ type: "paragraph", spans });
export const sub = (text: string): Block => ({ type: "subheading", text });
export const bullets = (items: (Span | Span[])[]): Block => ({
  type: "bullets",
  items: items.map((i) => (Array.isArray(i) ? i : [i])),
});
export const table = (columns: string[], rows: string[][], numeric?: boolean[]): Block => ({
  type: "table",
  columns,
  rows,
  ...(numeric ? { numeric } : {}),
});
export const strong = (text: string): Span => ({ text, strong: true });
/** "[to complete]" or "[to complete: what]" */
export const todo = (what?: string): Span => ({
  text: what ? `[to complete: ${what}]` : TO_COMPLETE,
  placeholder: true,
});

export const spanText = (s: Span): string => (typeof s === "string" ? s : s.text);

// ---------------------------------------------------------------------------------------------
// Formatting shared by the reports

export const count = (n: number | null | undefined): string =>
  n === null || n === undefined ? "-" : n.toLocaleString("en-US");

/**
 * An instant as people read it: "2025-11-09 14:00 UTC", or with the offset it was given in
 * ("2025-11-28 23:59 -03:00"), as a law's deadline is in its own zone.
 */
export function instant(iso: string | null | undefined): string {
  if (!iso) return "-";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.exec(iso);
  if (!m) return iso;
  return `${m[1]} ${m[2]} ${m[3] === "Z" ? "UTC" : m[3]}`;
}

/** "3 days 4 hours", "5 hours", "40 minutes": the size of a span of time. */
export function duration(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const unit = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
  if (days > 0) return hours > 0 ? `${unit(days, "day")} ${unit(hours, "hour")}` : unit(days, "day");
  if (hours > 0) return unit(hours, "hour");
  return unit(minutes, "minute");
}

/** The first 8 characters of an id: enough to tell incidents apart in a file name. */
export const shortId = (id: string): string => id.replace(/-/g, "").slice(0, 8);
