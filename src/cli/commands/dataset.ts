import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { cliActor } from "../../auth/roles.ts";
import {
  type Dataset,
  listDatasets,
  setDatasetMapping,
  uploadDataset,
} from "../../datasets/manage-datasets.ts";
import { readMappingDocument } from "../../intake/mapping.ts";
import { badInput, usageError } from "../../lib/errors.ts";
import {
  type Command,
  expectArguments,
  parseCommandLine,
  requireOption,
  subcommandError,
  withContext,
} from "../command.ts";

const SUBCOMMANDS = ["add", "list", "map"] as const;

const help = `Usage: blastradius dataset add --incident ID FILE [FILE ...] [--mapping FILE.yaml] [--json]
       blastradius dataset list --incident ID [--json]
       blastradius dataset map --incident ID DATASET_ID --mapping FILE.yaml|--clear [--json]

The vendor's exported datasets, kept in the workspace store sealed (encrypted) under the incident.
'blastradius analyze --incident ID' analyses all of an incident's datasets together.

add   stores each FILE under the incident and prints one line per file: dataset id, bytes,
      sha256 (of the file as given; compare it with the vendor's), file name. Formats are those
      'analyze' reads (Mixpanel exports, CSV, JSON, JSONL, Parquet; .gz or not), detected when the
      dataset is analysed. The first upload sets the incident's dataset_received clock unless it
      was set by hand. Files are stored one after the other: if one fails, those before it stay.
list  the incident's datasets: id, status, bytes, sha256, format (once analysed), file name.
map   replaces one dataset's field mapping (--clear: back to the defaults); the next analysis
      uses it.

Options:
  --incident ID       the incident (see 'blastradius incident list')
  --mapping FILE      YAML that changes the field-to-category mapping for these datasets, as for
                      'analyze --mapping' (see README). When an analysis covers several datasets
                      their mappings are merged; a field two of them map differently is refused.
  --clear             (map) remove the dataset's mapping
  --json              print JSON instead of text
  -h, --help          this help

Environment: DATABASE_URL (a PostgreSQL server, with BLASTRADIUS_ENCRYPTION_KEY) or BLASTRADIUS_DATA
(the embedded store's folder; not while 'blastradius serve' uses it). BLASTRADIUS_MAX_UPLOAD
(default 20GB) limits each file.

Exit codes: 0 success, 1 the work failed (e.g. the store is in use), 2 bad usage, bad input (no
such file, a bad mapping, a file too large) or no such incident.

Examples:
  blastradius dataset add --incident "$ID" export.jsonl.gz profiles.json
  blastradius dataset add --incident "$ID" export.csv --mapping mapping.yaml
  blastradius dataset list --incident "$ID"`;

const print = (line: string) => process.stdout.write(`${line}\n`);

const datasetLine = (d: Dataset) =>
  `${d.id}  ${d.status.padEnd(7)}  ${String(d.bytes).padStart(12)} bytes  sha256 ${d.sha256}  ${(d.format ?? "-").padEnd(16)}  ${d.file_name}`;

export const datasetCommand: Command = {
  name: "dataset",
  help,
  run: async (argv, config) => {
    const [sub, ...rest] = argv;
    if (sub === "add") {
      const { values: o, positionals: files } = parseCommandLine(rest, {
        incident: { type: "string" },
        mapping: { type: "string" },
        json: { type: "boolean", default: false },
      });
      const incidentId = requireOption(o.incident, "--incident ID");
      if (files.length === 0) throw usageError("missing FILE: name at least one dataset file");
      for (const file of files) {
        const s = await stat(file).catch(() => null);
        if (!s?.isFile()) throw badInput(`${file}: no such file`);
      }
      const mapping = o.mapping === undefined ? undefined : await readMappingDocument(o.mapping);
      return withContext(config, async (ctx) => {
        const stored: Dataset[] = [];
        for (const file of files) {
          const d = await uploadDataset(ctx, cliActor, incidentId, {
            fileName: path.basename(file),
            content: createReadStream(file),
            mapping,
          });
          stored.push(d);
          if (!o.json) print(`${d.id}  ${d.bytes} bytes  sha256 ${d.sha256}  ${d.file_name}`);
        }
        if (o.json) print(JSON.stringify(stored, null, 2));
        return 0;
      });
    }
    if (sub === "list") {
      const { values: o, positionals } = parseCommandLine(rest, {
        incident: { type: "string" },
        json: { type: "boolean", default: false },
      });
      expectArguments(positionals, []);
      const incidentId = requireOption(o.incident, "--incident ID");
      return withContext(config, async (ctx) => {
        const datasets = await listDatasets(ctx, cliActor, incidentId);
        if (o.json) print(JSON.stringify(datasets, null, 2));
        else if (datasets.length === 0)
          process.stderr.write(`(no datasets yet: blastradius dataset add --incident ${incidentId} FILE)\n`);
        else print(datasets.map(datasetLine).join("\n"));
        return 0;
      });
    }
    if (sub === "map") {
      const { values: o, positionals } = parseCommandLine(rest, {
        incident: { type: "string" },
        mapping: { type: "string" },
        clear: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      });
      const [datasetId = ""] = expectArguments(positionals, ["DATASET_ID"]);
      const incidentId = requireOption(o.incident, "--incident ID");
      if ((o.mapping === undefined) === !o.clear) throw usageError("give either --mapping FILE or --clear");
      const mapping = o.mapping === undefined ? null : await readMappingDocument(o.mapping);
      return withContext(config, async (ctx) => {
        const d = await setDatasetMapping(ctx, cliActor, incidentId, datasetId, mapping);
        if (o.json) print(JSON.stringify(d, null, 2));
        else print(`dataset ${d.id} (${d.file_name}): mapping ${mapping ? "set" : "cleared"}`);
        return 0;
      });
    }
    throw subcommandError(sub, SUBCOMMANDS);
  },
};
