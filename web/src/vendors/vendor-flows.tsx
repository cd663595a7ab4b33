import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { api } from "../api/client.ts";
import type { Vendor, VendorFlow } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { ErrorMessage, Field, formatDate, Loading, Notice } from "../layout/ui.tsx";
import { joinList, splitList, useCategories } from "./vendor-common.tsx";

type Surface = VendorFlow["surface"];
type FlowInput = { category: string; surface: Surface; fields: string[] };

const SURFACE_LABEL: Record<string, string> = {
  any: "every surface",
  web: "web front-end",
  server: "server",
  batch: "batch export",
};
const surfaceLabel = (s: Surface) => SURFACE_LABEL[s ?? "any"] ?? s;

const STATE_HELP: Record<VendorFlow["state"], string> = {
  seen: "declared, and seen by the latest scan",
  declared: "declared, not seen by the latest scan",
  undeclared: "seen by a scan, never declared",
};

export function useVendorFlows(vendorId: string) {
  return useQuery({
    queryKey: ["vendors", vendorId, "flows"],
    queryFn: () => api.get<VendorFlow[]>(`/vendors/${vendorId}/flows`),
  });
}

const declaredInputs = (flows: readonly VendorFlow[]): FlowInput[] =>
  flows
    .filter((f) => f.declared)
    .map((f) => ({ category: f.category, surface: f.surface, fields: f.fields }));

/** What the vendor receives, by category, surface and field: declared, seen or undeclared. */
export function VendorFlows({ vendor }: { vendor: Vendor }) {
  const { can } = useSession();
  const flows = useVendorFlows(vendor.id);
  const categories = useCategories();
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const put = useMutation({
    mutationFn: (body: FlowInput[]) => api.put<VendorFlow[]>(`/vendors/${vendor.id}/flows`, { flows: body }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ["vendors"] });
    },
  });
  const label = (key: string) => categories.data?.find((c) => c.key === key)?.label;
  const canEdit = can("responder");
  return (
    <section id="flows" className="card vendor-section" aria-labelledby="flows-title">
      <div className="vendor-section-head">
        <h2 id="flows-title">Data flows</h2>
        {canEdit && !editing && flows.data ? (
          <button
            type="button"
            onClick={() => {
              setEditing(true);
              setSaved(null);
              put.reset();
            }}
          >
            Edit declared flows
          </button>
        ) : null}
      </div>
      <p className="muted">
        Declared flows are what the inventory says it receives; a scan marks them seen, and adds what it saw
        that nobody declared.
      </p>
      {saved ? <Notice>{saved}</Notice> : null}
      <ErrorMessage error={flows.error} />
      {!flows.data ? (
        <Loading what="Loading the flows" />
      ) : editing ? (
        <FlowEditor
          vendorName={vendor.name}
          initial={declaredInputs(flows.data)}
          saving={put.isPending}
          error={put.error}
          onSave={(rows) =>
            put.mutate(rows, {
              onSuccess: () => {
                setEditing(false);
                setSaved(`Declared flows saved: ${rows.length}.`);
              },
            })
          }
          onCancel={() => setEditing(false)}
        />
      ) : flows.data.length === 0 ? (
        <p>No flow declared or seen yet.</p>
      ) : (
        <>
          <ErrorMessage error={put.error} />
          <div className="table-wrap">
            <table aria-label="Data flows">
              <thead>
                <tr>
                  <th scope="col">Category</th>
                  <th scope="col">Surface</th>
                  <th scope="col">Fields</th>
                  <th scope="col">State</th>
                  <th scope="col">Last seen</th>
                  {canEdit ? <th scope="col">Action</th> : null}
                </tr>
              </thead>
              <tbody>
                {flows.data.map((f) => (
                  <tr key={f.id} className={`vendor-flow-${f.state}`}>
                    <td>
                      <code>{f.category}</code>
                      {label(f.category) ? (
                        <span className="muted vendor-small vendor-block">{label(f.category)}</span>
                      ) : null}
                    </td>
                    <td>{surfaceLabel(f.surface)}</td>
                    <td className="wrap-anywhere">{f.fields.length ? f.fields.join(", ") : "–"}</td>
                    <td>
                      <span className={`badge vendor-state-${f.state}`} title={STATE_HELP[f.state]}>
                        {f.state}
                      </span>
                    </td>
                    <td className="nowrap">{f.last_seen_at ? formatDate(f.last_seen_at) : "never"}</td>
                    {canEdit ? (
                      <td>
                        {f.state === "undeclared" ? (
                          <button
                            type="button"
                            className="small"
                            disabled={put.isPending}
                            aria-label={`Declare ${f.category}`}
                            onClick={() => {
                              setSaved(null);
                              put.mutate(
                                [
                                  ...declaredInputs(flows.data ?? []),
                                  { category: f.category, surface: f.surface, fields: f.fields },
                                ],
                                { onSuccess: () => setSaved(`${f.category} is now declared.`) },
                              );
                            }}
                          >
                            Declare
                          </button>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted vendor-small">
            seen: {STATE_HELP.seen}; declared: {STATE_HELP.declared}; undeclared: {STATE_HELP.undeclared}.
          </p>
        </>
      )}
    </section>
  );
}

type Row = { key: number; category: string; surface: string; fields: string };
let rowKey = 0;
const toRow = (f?: FlowInput): Row => ({
  key: ++rowKey,
  category: f?.category ?? "",
  surface: f?.surface ?? "any",
  fields: f ? joinList(f.fields) : "",
});

function FlowEditor({
  vendorName,
  initial,
  saving,
  error,
  onSave,
  onCancel,
}: {
  vendorName: string;
  initial: FlowInput[];
  saving: boolean;
  error: unknown;
  onSave: (rows: FlowInput[]) => void;
  onCancel: () => void;
}) {
  const categories = useCategories();
  const listId = useId();
  const [rows, setRows] = useState<Row[]>(() => (initial.length ? initial.map(toRow) : [toRow()]));
  const set = (key: number, patch: Partial<Row>) =>
    setRows((all) => all.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave(
      rows
        .filter((r) => r.category.trim())
        .map((r) => ({
          category: r.category.trim(),
          surface: r.surface === "any" ? null : (r.surface as Surface),
          fields: splitList(r.fields),
        })),
    );
  };
  return (
    <form onSubmit={submit} aria-label={`Declared flows of ${vendorName}`} className="vendor-form">
      <datalist id={listId}>
        {categories.data?.map((c) => (
          <option key={c.key} value={c.key}>
            {c.label}
          </option>
        ))}
      </datalist>
      <p className="muted">
        The whole declared set: a flow left out is no longer declared (flows a scan saw stay, as undeclared).
        A category covers the categories under it.
      </p>
      {rows.map((r, i) => (
        <div key={r.key} className="vendor-row">
          <Field label={`Flow ${i + 1} category`}>
            {(id) => (
              <input
                id={id}
                list={listId}
                maxLength={200}
                placeholder="user.contact.email"
                value={r.category}
                onChange={(e) => set(r.key, { category: e.target.value })}
              />
            )}
          </Field>
          <Field label={`Flow ${i + 1} surface`}>
            {(id) => (
              <select id={id} value={r.surface} onChange={(e) => set(r.key, { surface: e.target.value })}>
                {Object.entries(SURFACE_LABEL).map(([value, text]) => (
                  <option key={value} value={value}>
                    {text}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={`Flow ${i + 1} fields`}>
            {(id) => (
              <input
                id={id}
                placeholder="$email, user.email"
                value={r.fields}
                onChange={(e) => set(r.key, { fields: e.target.value })}
              />
            )}
          </Field>
          <button
            type="button"
            className="small vendor-row-remove"
            aria-label={`Remove flow ${i + 1}`}
            onClick={() => setRows((all) => all.filter((x) => x.key !== r.key))}
          >
            Remove
          </button>
        </div>
      ))}
      <ErrorMessage error={error} />
      <div className="actions">
        <button type="button" className="small" onClick={() => setRows((all) => [...all, toRow()])}>
          Add flow
        </button>
        <button type="submit" className="primary" disabled={saving}>
          Save declared flows
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
