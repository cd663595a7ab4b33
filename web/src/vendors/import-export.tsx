import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type ChangeEvent, useState } from "react";
import { API, api } from "../api/client.ts";
import type { VendorImportResult } from "../api/types.ts";
import { ErrorMessage, Field, Notice } from "../layout/ui.tsx";

const FORMATS = [
  ["auto", "Recognise it (a top-level system: list is Fides)"],
  ["yaml", "Vendors as code (YAML)"],
  ["fides", "Fides system manifest"],
] as const;
type Format = (typeof FORMATS)[number][0];

/**
 * Vendors as code into the inventory: paste or choose a file, dry-run it (the server runs the whole
 * import and rolls it back, so it finds what a real run would), then import the same text.
 */
export function ImportVendors({ onClose }: { onClose: () => void }) {
  const client = useQueryClient();
  const [text, setText] = useState("");
  const [format, setFormat] = useState<Format>("auto");
  const [fileError, setFileError] = useState<string | null>(null);
  /** the text and format the last dry run checked: Import is for exactly those */
  const [checked, setChecked] = useState<{ text: string; format: Format; result: VendorImportResult } | null>(
    null,
  );
  const [imported, setImported] = useState<VendorImportResult | null>(null);
  const run = useMutation({
    mutationFn: (dryRun: boolean) =>
      api.post<VendorImportResult>("/vendors/import", { text, format, dry_run: dryRun }),
    onSuccess: async (result) => {
      if (result.dry_run) {
        setChecked({ text, format, result });
        return;
      }
      setImported(result);
      setChecked(null);
      await client.invalidateQueries({ queryKey: ["vendors"] });
    },
  });
  const choose = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    setFileError(null);
    if (!file) return;
    try {
      setText(await file.text());
      setImported(null);
      run.reset();
    } catch (error) {
      setFileError(`${file.name}: cannot be read (${(error as Error).message})`);
    }
  };
  const ready = checked !== null && checked.text === text && checked.format === format;
  const shown = imported ?? (ready ? checked.result : null);
  return (
    <section className="card vendor-panel" aria-labelledby="vendor-import-title">
      <h2 id="vendor-import-title">Import vendors</h2>
      <p className="muted">
        A vendors file (one vendor, or a <code>vendors:</code> list) or a Fides system manifest. Vendors are
        matched by name: the file is the truth for the fields it gives, and its <code>data:</code> replaces
        the declared flows. Try it with a dry run first: nothing changes until you import.
      </p>
      <div className="form-grid">
        <Field label="Vendors file" hint="YAML; or paste it below">
          {(id) => <input id={id} type="file" accept=".yaml,.yml,.json,text/yaml" onChange={choose} />}
        </Field>
        <Field label="Format">
          {(id) => (
            <select id={id} value={format} onChange={(e) => setFormat(e.target.value as Format)}>
              {FORMATS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field label="Vendors as code">
        {(id) => (
          <textarea
            id={id}
            className="vendor-code"
            rows={10}
            spellCheck={false}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setImported(null);
            }}
          />
        )}
      </Field>
      {fileError ? <p className="error">{fileError}</p> : null}
      <ErrorMessage error={run.error} />
      <div className="actions">
        <button
          type="button"
          className={ready ? "" : "primary"}
          disabled={!text.trim() || run.isPending}
          onClick={() => {
            setImported(null);
            run.mutate(true);
          }}
        >
          Dry run
        </button>
        <button
          type="button"
          className={ready ? "primary" : ""}
          disabled={!ready || run.isPending}
          onClick={() => run.mutate(false)}
        >
          Import
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
        {!ready && !imported && text.trim() ? <span className="muted">Import after a dry run.</span> : null}
      </div>
      {shown ? <ImportOutcome result={shown} /> : null}
    </section>
  );
}

function ImportOutcome({ result }: { result: VendorImportResult }) {
  const summary = `${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged`;
  return (
    <div className="vendor-outcome">
      {result.dry_run ? (
        <Notice>Dry run (nothing changed): {summary}.</Notice>
      ) : (
        <Notice>Imported: {summary}.</Notice>
      )}
      {result.warnings.length > 0 ? (
        <div className="vendor-warnings">
          <h3>Warnings</h3>
          <ul>
            {result.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {result.vendors.length > 0 ? (
        <div className="table-wrap">
          <table aria-label={result.dry_run ? "Dry run" : "Import"}>
            <thead>
              <tr>
                <th scope="col">Vendor</th>
                <th scope="col">{result.dry_run ? "Would be" : "Was"}</th>
                <th scope="col">Fields</th>
              </tr>
            </thead>
            <tbody>
              {result.vendors.map((v) => (
                <tr key={v.id}>
                  <td>{v.name}</td>
                  <td>{v.action}</td>
                  <td className="wrap-anywhere">{v.fields.join(", ") || "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

/** Every vendor as code: the GET answers with an attachment, so plain links download it. */
export function ExportLinks() {
  return (
    <>
      <a className="button" href={`${API}/vendors/export?format=yaml`} download>
        Export vendors.yaml
      </a>
      <a className="button" href={`${API}/vendors/export?format=fides`} download>
        Export Fides manifest
      </a>
    </>
  );
}
