import { readFile, writeFile } from "node:fs/promises";
import { badInput, usageError } from "../../lib/errors.ts";
import {
  exposureFromSummary,
  obligationsForIncident,
  parseAnswers,
  parseClocks,
  parseCountry,
} from "../../obligations/obligations-for-incident.ts";
import { type Command, parseOptions, requireOption } from "../command.ts";

const help = `Usage: blastradius obligations --summary summary.json --aware-at ISO [--clock NAME=ISO ...]
                               [--controller-country CC] [--answer REGIME:AUDIENCE=D ...]
                               [--contract FILE] [--out FILE]

Decides, per regime, which notices the incident requires, to whom, by when and why, from the
summary.json that 'analyze' wrote. Prints the list as JSON, or writes it to --out.

Options:
  --summary FILE              the summary.json of 'analyze'
  --aware-at ISO              when the controller became aware (ISO-8601 with offset)
  --clock NAME=ISO            another clock; NAME is vendor_detected, vendor_notified, aware,
                              dataset_received or assessed. Repeatable.
  --controller-country CC     where the controller is established (decides the GDPR lead authority)
  --answer REGIME:AUDIENCE=D  record a person's answer to a judgment question (D is required or
                              not_required), e.g. eu-gdpr:individuals=not_required. Repeatable.
  --contract FILE             your own contractual notice rule (YAML, id: contract) instead of the
                              bundled src/obligations/rules/contract.yaml
  --out FILE                  write the JSON here instead of stdout
  -h, --help                  this help

Regimes: eu-gdpr, uk-gdpr, br-lgpd, us-ca, us-ny, ca-pipeda, au-ndb, jp-appi, sg-pdpa, kr-pipa,
in-dpdp, contract. The output supports legal advice; it does not replace it.

Example:
  blastradius obligations --summary result/summary.json --aware-at 2025-11-25T18:00:00Z --controller-country US`;

export const obligationsCommand: Command = {
  name: "obligations",
  help,
  run: async (argv) => {
    const o = parseOptions(argv, {
      summary: { type: "string" },
      "aware-at": { type: "string" },
      clock: { type: "string", multiple: true },
      "controller-country": { type: "string" },
      contract: { type: "string" },
      answer: { type: "string", multiple: true },
      out: { type: "string" },
    });
    const summaryFile = requireOption(o.summary, "--summary FILE");
    const clocks = parseClocks(o["aware-at"], o.clock);
    if (!clocks.aware) throw usageError("missing required option --aware-at ISO (or --clock aware=ISO)");
    let summary: unknown;
    try {
      summary = JSON.parse(await readFile(summaryFile, "utf8"));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw badInput(
        `--summary ${summaryFile}: ${code ? `cannot read the file (${code})` : `not JSON (${(error as Error).message})`}`,
      );
    }
    const decisions = await obligationsForIncident({
      exposure: exposureFromSummary(summary, summaryFile),
      clocks,
      controllerCountry: parseCountry(o["controller-country"], "--controller-country"),
      contractFile: o.contract,
      answers: parseAnswers(o.answer),
    });
    const json = `${JSON.stringify(decisions, null, 2)}\n`;
    if (o.out) await writeFile(o.out, json);
    else process.stdout.write(json);
    return 0;
  },
};
