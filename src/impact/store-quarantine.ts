import path from "node:path";
import type { Context } from "../app/context.ts";
import { literal, openDuckDb, streamRows } from "../lib/duckdb.ts";
import type { Queryable } from "../store/db.ts";

const BATCH = 2000;

/**
 * Stores a finished analysis's quarantine.jsonl on `tx` (the job's completion), a batch at a time, in
 * upload order and then line or row; the raw excerpts are sealed. `fileNames` maps the paths the
 * analysis read to the uploaded names.
 */
export async function storeQuarantine(
  ctx: Pick<Context, "config" | "sealer">,
  tx: Queryable,
  runId: string,
  outDir: string,
  fileNames: ReadonlyMap<string, string>,
): Promise<number> {
  await tx.query("DELETE FROM quarantined_rows WHERE run_id = $1", [runId]);
  const duck = await openDuckDb(ctx.config);
  try {
    const names = [...fileNames].map(([from, to], i) => `(${literal(from)}, ${literal(to)}, ${i})`);
    const files = names.length
      ? `(VALUES ${names.join(", ")}) AS m(path, name, i)`
      : "(SELECT NULL::VARCHAR AS path, NULL::VARCHAR AS name, 0 AS i WHERE false) AS m";
    const source = literal(path.join(outDir, "quarantine.jsonl"));
    let ordinal = 0;
    for await (const rows of streamRows<{
      file: string;
      line: bigint | null;
      row: bigint | null;
      reason: string;
      raw: string | null;
    }>(
      duck.sql,
      `SELECT coalesce(nullif(m.name, ''), regexp_extract(q.file, '[^/\\\\]*$')) AS file, q.line, q."row", q.reason, q.raw
       FROM read_json(${source}, format = 'newline_delimited',
         columns = {file: 'VARCHAR', line: 'BIGINT', "row": 'BIGINT', reason: 'VARCHAR', raw: 'VARCHAR'}) q
       LEFT JOIN ${files} ON m.path = q.file
       ORDER BY m.i NULLS LAST, q.file, q.line, q."row"`,
      BATCH,
    )) {
      await tx.query(
        `INSERT INTO quarantined_rows (run_id, ordinal, file, line, "row", reason, sealed)
         SELECT $1, o, f, l, r, why, decode(s, 'base64')
         FROM unnest($2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[]) AS t(o, f, l, r, why, s)`,
        [
          runId,
          rows.map((_, i) => ordinal + i),
          rows.map((q) => q.file),
          rows.map((q) => (q.line === null ? null : String(q.line))),
          rows.map((q) => (q.row === null ? null : String(q.row))),
          rows.map((q) => q.reason),
          rows.map((q) => (q.raw === null ? null : ctx.sealer.seal(q.raw).toString("base64"))),
        ],
      );
      ordinal += rows.length;
    }
    return ordinal;
  } finally {
    duck.close();
  }
}
