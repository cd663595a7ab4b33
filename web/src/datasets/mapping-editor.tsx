import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { Category, Dataset, DatasetField, DatasetFields, MappingDocument } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { CellText } from "../impact/cell-text.tsx";
import { Card, ErrorMessage, Field, formatNumber, Loading, Notice } from "../layout/ui.tsx";
import { categoryLabel, shortLabel, useCategories } from "./use-datasets.ts";

/** The roles a mapping can give fields, with the defaults the server uses when a role is not set. */
export const ROLE_FIELDS = [
  ["email", "Email fields", "$email, email"],
  ["user_id", "User id fields", "$user_id, user_id"],
  ["distinct_id", "Distinct id fields", "distinct_id, $distinct_id"],
  ["device_id", "Device id fields", "$device_id, device_id"],
  ["name", "Name fields", "$name, name"],
  ["country", "Country fields", "mp_country_code, $country_code, country"],
  ["region", "Region fields", "$region"],
  ["org_id", "Organisation id fields", "org_id"],
] as const;
type RoleKey = (typeof ROLE_FIELDS)[number][0];

const DEFAULT = "__default";
const NONE = "__none";

export function useDatasetFields(incidentId: string, datasetId: string) {
  return useQuery({
    queryKey: ["incident", incidentId, "datasets", datasetId, "fields"],
    queryFn: () => api.get<DatasetFields>(`/incidents/${incidentId}/datasets/${datasetId}/fields`),
    retry: false,
  });
}

/**
 * One dataset: its detected format, the fields seen in a sample of its records with masked sample
 * values, and the mapping of each field onto a data category and of fields onto identifying roles.
 */
export function DatasetDetail({ incidentId, dataset }: { incidentId: string; dataset: Dataset }) {
  const fields = useDatasetFields(incidentId, dataset.id);
  const categories = useCategories();
  // kept here: the editor starts afresh (a new key) from what the server stored after each save
  const [saved, setSaved] = useState(false);
  return (
    <Card
      className="dataset-detail"
      title={
        <>
          Fields and mapping of <span className="file-name">{dataset.file_name}</span>
        </>
      }
    >
      <ErrorMessage error={fields.error ?? categories.error} />
      {fields.isLoading ? <Loading what="Reading a sample of the dataset" /> : null}
      {fields.data ? (
        <>
          <dl className="dataset-facts">
            <div>
              <dt>Detected format</dt>
              <dd>{fields.data.format.label}</dd>
            </div>
            <div>
              <dt>Records sampled</dt>
              <dd>{formatNumber(fields.data.sampled_records)}</dd>
            </div>
            <div>
              <dt>Fields</dt>
              <dd>{formatNumber(fields.data.fields.length)}</dd>
            </div>
          </dl>
          {fields.data.unmapped.length > 0 ? (
            <Notice>
              {formatNumber(fields.data.unmapped.length)} field
              {fields.data.unmapped.length === 1 ? " is" : "s are"} not mapped to a data category. Review them
              and map any that hold personal data.
            </Notice>
          ) : null}
          <MappingEditor
            // a saved mapping starts the editor afresh from what the server stored
            key={canonical(dataset.mapping)}
            incidentId={incidentId}
            dataset={dataset}
            fields={fields.data.fields}
            categories={categories.data ?? []}
            saved={saved}
            setSaved={setSaved}
          />
        </>
      ) : null}
    </Card>
  );
}

function MappingEditor({
  incidentId,
  dataset,
  fields,
  categories,
  saved,
  setSaved,
}: {
  incidentId: string;
  dataset: Dataset;
  fields: DatasetField[];
  categories: Category[];
  saved: boolean;
  setSaved: (saved: boolean) => void;
}) {
  const { can } = useSession();
  const client = useQueryClient();
  const editable = can("analyst");
  const initialFields = dataset.mapping?.fields ?? {};
  const initialRoles = Object.fromEntries(
    ROLE_FIELDS.map(([key]) => [key, (dataset.mapping?.roles?.[key] ?? []).join(", ")]),
  ) as Record<RoleKey, string>;
  const [mapped, setMapped] = useState<Record<string, string | null>>(initialFields);
  const [roles, setRoles] = useState<Record<RoleKey, string>>(initialRoles);

  // Fields named in the stored mapping but not in the sample stay editable (and are kept on save).
  const names = [...fields.map((f) => f.name)];
  for (const name of Object.keys(initialFields)) if (!names.includes(name)) names.push(name);
  const byName = new Map(fields.map((f) => [f.name, f]));

  const doc = (): MappingDocument | null => {
    const roleDoc: Record<string, string[]> = {};
    for (const [key] of ROLE_FIELDS) {
      const list = roles[key]
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (list.length) roleDoc[key] = list;
    }
    const out: MappingDocument = {};
    if (Object.keys(mapped).length) out.fields = mapped;
    if (Object.keys(roleDoc).length) out.roles = roleDoc;
    return out.fields || out.roles ? out : null;
  };
  const dirty = canonical(doc()) !== canonical(dataset.mapping);

  const save = useMutation({
    mutationFn: (mapping: MappingDocument | null) =>
      api.put<Dataset>(`/incidents/${incidentId}/datasets/${dataset.id}/mapping`, { mapping }),
    onSuccess: async () => {
      setSaved(true);
      await client.invalidateQueries({ queryKey: ["incident", incidentId, "datasets"] });
    },
  });

  const setField = (name: string, value: string) => {
    setSaved(false);
    setMapped((m) => {
      const next = { ...m };
      if (value === DEFAULT) delete next[name];
      else next[name] = value === NONE ? null : value;
      return next;
    });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(doc());
  };
  const options = [...categories];
  for (const v of Object.values(mapped))
    if (v && !options.some((c) => c.key === v)) options.push({ key: v, label: v });

  return (
    <form onSubmit={submit} aria-label="Field mapping">
      <h3>Data categories</h3>
      <p className="muted">
        Each field counts as exposing its category wherever a record has a value in it. “Default” keeps the
        built-in mapping (shown under “Now”).
      </p>
      <div className="table-wrap">
        <table className="fields-table">
          <caption className="visually-hidden">Fields of the dataset and their data categories</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col" className="num">
                In sample
              </th>
              <th scope="col">Sample values (masked)</th>
              <th scope="col">Now</th>
              <th scope="col">Roles</th>
              <th scope="col">Map to</th>
            </tr>
          </thead>
          <tbody>
            {names.map((name) => {
              const f = byName.get(name);
              const value = !(name in mapped)
                ? DEFAULT
                : mapped[name] === null
                  ? NONE
                  : (mapped[name] as string);
              return (
                <tr key={name}>
                  <th scope="row">
                    <CellText value={name} code />
                  </th>
                  <td className="num">{f ? formatNumber(f.seen) : "–"}</td>
                  <td>
                    {f && f.samples.length > 0 ? (
                      <ul className="samples">
                        {f.samples.map((s, i) => (
                          // samples may repeat; their position is their identity
                          // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list
                          <li key={i}>
                            <code>{s}</code>
                          </li>
                        ))}
                      </ul>
                    ) : (
                      <span className="muted">{f ? "no value" : "not in the sample"}</span>
                    )}
                  </td>
                  <td className="now">
                    {f?.category ? (
                      <span title={`${categoryLabel(categories, f.category)} (${f.category})`}>
                        {shortLabel(categoryLabel(categories, f.category))}
                      </span>
                    ) : (
                      <span className="badge badge-unmapped">not mapped</span>
                    )}
                  </td>
                  <td>
                    {f?.roles.length ? (
                      f.roles.map((r) => r.replaceAll("_", " ")).join(", ")
                    ) : (
                      <span className="muted">–</span>
                    )}
                  </td>
                  <td>
                    <select
                      aria-label={`Category of ${name}`}
                      value={value}
                      disabled={!editable}
                      onChange={(e) => setField(name, e.target.value)}
                    >
                      <option value={DEFAULT}>Default</option>
                      <option value={NONE}>Not personal data</option>
                      {options.map((c) => (
                        <option key={c.key} value={c.key}>
                          {c.label === c.key ? c.key : `${c.label} (${c.key})`}
                        </option>
                      ))}
                    </select>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h3>Identifying fields</h3>
      <p className="muted">
        Which fields identify or describe a person, in order of preference, separated by commas. Empty keeps
        the default.
      </p>
      <div className="form-grid">
        {ROLE_FIELDS.map(([key, label, defaults]) => (
          <Field key={key} label={label} hint={`Default: ${defaults}`}>
            {(id) => (
              <input
                id={id}
                value={roles[key]}
                placeholder={defaults}
                disabled={!editable}
                onChange={(e) => {
                  setSaved(false);
                  setRoles({ ...roles, [key]: e.target.value });
                }}
              />
            )}
          </Field>
        ))}
      </div>
      <ErrorMessage error={save.error} />
      {saved && !dirty ? <Notice>Mapping saved. Run the analysis again to apply it.</Notice> : null}
      {editable ? (
        <div className="actions">
          <button type="submit" className="primary" disabled={save.isPending || !dirty}>
            Save mapping
          </button>
          <button
            type="button"
            disabled={!dirty}
            onClick={() => {
              setSaved(false);
              setMapped(initialFields);
              setRoles(initialRoles);
            }}
          >
            Discard changes
          </button>
          <button
            type="button"
            disabled={save.isPending || dataset.mapping === null}
            onClick={() => save.mutate(null)}
          >
            Use the defaults
          </button>
        </div>
      ) : (
        <p className="muted">Analysts and above can change the mapping.</p>
      )}
    </form>
  );
}

/** The same mapping gives the same text whatever order the store keeps its keys in. */
function canonical(doc: MappingDocument | null | undefined): string {
  if (!doc) return "null";
  const sorted = (o: Record<string, unknown> | undefined) =>
    o ? Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : null;
  const fields = doc.fields && Object.keys(doc.fields).length ? sorted(doc.fields) : null;
  const roles = doc.roles && Object.keys(doc.roles).length ? sorted(doc.roles) : null;
  return fields || roles ? JSON.stringify({ fields, roles }) : "null";
}
