import PDFDocument from "pdfkit";
import type { Block, ReportDocument, Span } from "./document.ts";

/**
 * A report as a PDF with pdfkit: the built-in Helvetica faces (nothing is fetched or embedded), text
 * and simple ruled tables, page numbers in the footer. The generation time is the document's creation
 * date, so the same report made at the same time is the same file.
 */

export type PdfOptions = {
  /** deflate the page content (default true); tests turn it off to read the text */
  compress?: boolean;
};

const FONT = "Helvetica";
const BOLD = "Helvetica-Bold";
const MARGIN = 56;
const BODY = 10;
const SMALL = 8.5;
const CELL_PAD = 4;
const CELL_MAX_CHARS = 600;
const GREY = "#555555";
const RULE = "#999999";
const HEADER_FILL = "#eeeeee";

// The standard 14 fonts speak WinAnsi (Windows-1252): Latin-1 and these extras. Anything else is
// written without its accents where that helps ("ł" stays "?", "ő" becomes "o"), else as "?".
const WIN_ANSI_EXTRA = new Set([..."€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"]);
const winAnsiChar = (ch: string): boolean => {
  const c = ch.codePointAt(0) ?? 0;
  return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || WIN_ANSI_EXTRA.has(ch);
};

export function pdfText(text: string): string {
  let out = "";
  for (const ch of text.replace(/\s+/g, " ")) {
    if (winAnsiChar(ch)) out += ch;
    else {
      const base = ch.normalize("NFKD").replace(/\p{M}/gu, "");
      out += base && [...base].every(winAnsiChar) ? base : "?";
    }
  }
  return out;
}

const spanText = (s: Span) => pdfText(typeof s === "string" ? s : s.text);
const isBold = (s: Span) => typeof s !== "string" && Boolean(s.strong || s.placeholder);

export async function renderPdf(report: ReportDocument, options: PdfOptions = {}): Promise<Buffer> {
  const created = new Date(report.generatedAt);
  const doc = new PDFDocument({
    size: "A4",
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    compress: options.compress ?? true,
    bufferPages: true,
    info: {
      Title: pdfText(report.title),
      Creator: "blastradius",
      Producer: "blastradius (pdfkit)",
      CreationDate: created,
      ModDate: created,
    },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on("end", resolve);
    doc.on("error", reject);
  });

  const left = MARGIN;
  const width = doc.page.width - 2 * MARGIN;
  const bottom = () => doc.page.height - MARGIN;
  const ensure = (height: number) => {
    if (doc.y + height > bottom()) doc.addPage();
  };

  const spans = (list: Span[], x: number, w: number, size = BODY) => {
    const parts = list.filter((s) => spanText(s) !== "");
    if (parts.length === 0) return;
    doc.fillColor("black");
    parts.forEach((s, i) => {
      doc.font(isBold(s) ? BOLD : FONT).fontSize(size);
      const last = i === parts.length - 1;
      if (i === 0) doc.text(spanText(s), x, doc.y, { width: w, continued: !last });
      else doc.text(spanText(s), { continued: !last });
    });
  };

  const heading = (text: string, size: number, gapBefore: number) => {
    doc.font(BOLD).fontSize(size);
    const h = doc.heightOfString(pdfText(text), { width });
    if (doc.y > MARGIN) doc.moveDown(gapBefore);
    // keep a heading with at least a few lines of what follows
    ensure(h + 3 * BODY * 1.4);
    doc.fillColor("black").text(pdfText(text), left, doc.y, { width });
    doc.moveDown(0.3);
  };

  const drawTable = (b: Extract<Block, { type: "table" }>) => {
    const cellText = (t: string) => {
      const clean = pdfText(t);
      return clean.length > CELL_MAX_CHARS ? `${clean.slice(0, CELL_MAX_CHARS - 1)}…` : clean;
    };
    const rows = b.rows.map((r) => b.columns.map((_, i) => cellText(r[i] ?? "")));
    const header = b.columns.map(cellText);
    // Column widths follow the longest word and the typical length of each column's text.
    doc.fontSize(SMALL);
    // (Measured in the bold face, which the header uses and which is never narrower; +1 for rounding.)
    doc.font(BOLD);
    const want = b.columns.map((_, i) => {
      const texts = [header[i] ?? "", ...rows.map((r) => r[i] ?? "")];
      const longestWord = Math.max(...texts.flatMap((t) => t.split(" ").map((w) => doc.widthOfString(w))));
      const longest = Math.max(...texts.map((t) => doc.widthOfString(t)));
      return {
        min: Math.min(longestWord + 2 * CELL_PAD + 1, width / 2),
        ideal: longest + 2 * CELL_PAD + 1,
      };
    });
    const idealSum = want.reduce((s, w) => s + w.ideal, 0);
    let widths: number[];
    if (idealSum <= width) widths = want.map((w) => (w.ideal / idealSum) * width);
    else {
      const minSum = want.reduce((s, w) => s + w.min, 0);
      const spare = Math.max(0, width - minSum);
      const extra = want.map((w) => Math.max(0, w.ideal - w.min));
      const extraSum = extra.reduce((s, e) => s + e, 0) || 1;
      widths = want.map((w, i) => w.min + ((extra[i] ?? 0) / extraSum) * spare);
      const total = widths.reduce((s, w) => s + w, 0);
      if (total > width) widths = widths.map((w) => (w / total) * width);
    }
    const rowHeight = (cells: string[], font: string) => {
      doc.font(font).fontSize(SMALL);
      return (
        Math.max(
          ...cells.map((c, i) => doc.heightOfString(c || " ", { width: (widths[i] ?? 0) - 2 * CELL_PAD })),
        ) +
        2 * CELL_PAD
      );
    };
    const drawRow = (cells: string[], font: string, fill: boolean) => {
      const h = rowHeight(cells, font);
      const y = doc.y;
      if (fill) doc.rect(left, y, width, h).fill(HEADER_FILL);
      let x = left;
      doc.font(font).fontSize(SMALL).fillColor("black");
      cells.forEach((c, i) => {
        const w = widths[i] ?? 0;
        doc.text(c, x + CELL_PAD, y + CELL_PAD, {
          width: w - 2 * CELL_PAD,
          align: b.numeric?.[i] ? "right" : "left",
          lineBreak: true,
        });
        x += w;
      });
      doc
        .moveTo(left, y + h)
        .lineTo(left + width, y + h)
        .lineWidth(0.5)
        .strokeColor(RULE)
        .stroke();
      doc.x = left;
      doc.y = y + h;
    };
    ensure(rowHeight(header, BOLD) + (rows[0] ? rowHeight(rows[0], FONT) : 0));
    drawRow(header, BOLD, true);
    for (const r of rows) {
      if (doc.y + rowHeight(r, FONT) > bottom()) {
        doc.addPage();
        drawRow(header, BOLD, true);
      }
      drawRow(r, FONT, false);
    }
    doc.x = left;
    doc.moveDown(0.6);
  };

  const drawBlock = (b: Block) => {
    switch (b.type) {
      case "subheading":
        heading(b.text, 11, 0.6);
        return;
      case "paragraph":
        spans(b.spans, left, width);
        doc.moveDown(0.5);
        return;
      case "bullets":
        for (const item of b.items) {
          doc.font(FONT).fontSize(BODY);
          ensure(BODY * 1.4);
          const y = doc.y;
          doc.fillColor("black").text("•", left + 4, y, { width: 10 });
          doc.y = y;
          spans(item, left + 16, width - 16);
          doc.moveDown(0.2);
        }
        doc.x = left;
        doc.moveDown(0.3);
        return;
      case "table":
        drawTable(b);
        return;
    }
  };

  doc.font(BOLD).fontSize(17).fillColor("black").text(pdfText(report.title), left, MARGIN, { width });
  doc.moveDown(0.4);
  doc.fillColor(GREY);
  for (const l of report.lead) spans(l, left, width, SMALL + 0.5);
  for (const section of report.sections) {
    heading(section.heading, 13.5, 1);
    for (const b of section.blocks) drawBlock(b);
  }

  // Footers, once the page count is known; the bottom margin is lifted so that they stay put.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const saved = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font(FONT)
      .fontSize(7.5)
      .fillColor(GREY)
      .text(
        `${pdfText(report.title)} - page ${i + 1 - range.start} of ${range.count}`,
        left,
        doc.page.height - MARGIN / 2 - 4,
        { width, align: "center", lineBreak: false },
      );
    doc.page.margins.bottom = saved;
  }
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
