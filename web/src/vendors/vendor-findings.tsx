import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { FindingOwner, Severity, Vendor, VendorFinding } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { Card, ErrorMessage, Field, formatDate, Loading, Notice } from "../layout/ui.tsx";
import { useUsers } from "../users/users-page.tsx";
import { formatDay } from "./review-common.ts";
import "./review.css";

const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];

/**
 * The vendor's findings: what it does not meet, with an owner and a due date. Questionnaire answers
 * of no or partial open them; responders add them by hand too. Open ones come first, by due date.
 */
export function VendorFindings({ vendor }: { vendor: Vendor }) {
  const { can } = useSession();
  const findings = useQuery({
    queryKey: ["vendors", vendor.id, "findings"],
    queryFn: () => api.get<VendorFinding[]>(`/vendors/${vendor.id}/findings`),
  });
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const canEdit = can("responder");
  const open = findings.data?.filter((f) => f.status === "open").length ?? 0;
  const overdue = findings.data?.filter((f) => f.overdue).length ?? 0;
  return (
    <Card title="Findings" className="review-findings">
      <div className="section-head">
        <p className="muted">
          {findings.data
            ? `${open} open${overdue > 0 ? `, ${overdue} overdue` : ""}, ${findings.data.length - open} closed.`
            : ""}
        </p>
        {canEdit ? (
          <button
            type="button"
            aria-expanded={adding}
            onClick={() => {
              setAdding(!adding);
              setDone(null);
            }}
          >
            Add finding
          </button>
        ) : null}
      </div>
      {done ? <Notice>{done}</Notice> : null}
      {adding ? (
        <FindingForm
          vendor={vendor}
          onDone={(f) => {
            setAdding(false);
            setDone(`Finding “${f.title}” added.`);
          }}
          onCancel={() => setAdding(false)}
        />
      ) : null}
      <ErrorMessage error={findings.error} />
      {!findings.data ? (
        <Loading what="Loading the findings" />
      ) : findings.data.length === 0 ? (
        <p>No finding.</p>
      ) : (
        <div className="table-wrap">
          <table className="findings-table">
            <caption className="visually-hidden">Findings of {vendor.name}</caption>
            <thead>
              <tr>
                <th scope="col">Finding</th>
                <th scope="col">Severity</th>
                <th scope="col">Owner</th>
                <th scope="col">Due</th>
                <th scope="col">Status</th>
                <th scope="col">Note</th>
                {canEdit ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {findings.data.map((f) =>
                editing === f.id ? (
                  <tr key={f.id} className="finding-edit">
                    <td colSpan={canEdit ? 7 : 6}>
                      <FindingForm
                        vendor={vendor}
                        finding={f}
                        onDone={(saved) => {
                          setEditing(null);
                          setDone(`Finding “${saved.title}” saved.`);
                        }}
                        onCancel={() => setEditing(null)}
                      />
                    </td>
                  </tr>
                ) : (
                  <FindingRow
                    key={f.id}
                    finding={f}
                    canEdit={canEdit}
                    onEdit={() => {
                      setEditing(f.id);
                      setAdding(false);
                      setDone(null);
                    }}
                  />
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function ownerName(o: FindingOwner | null): string {
  if (!o) return "–";
  return o.display_name ? `${o.display_name} <${o.email}>` : o.email;
}

function FindingRow({
  finding: f,
  canEdit,
  onEdit,
}: {
  finding: VendorFinding;
  canEdit: boolean;
  onEdit: () => void;
}) {
  return (
    <tr className={f.overdue ? "finding-overdue" : f.status === "closed" ? "finding-closed" : undefined}>
      <th scope="row">
        {f.title}
        {f.questionnaire_id ? (
          <small className="muted finding-source"> from a questionnaire answer</small>
        ) : null}
      </th>
      <td>
        <span className={`badge risk-${f.severity}`}>{f.severity}</span>
      </td>
      <td>{ownerName(f.owner)}</td>
      <td className="nowrap">
        {formatDay(f.due_at)}
        {f.overdue ? (
          <>
            {" "}
            <span className="badge badge-overdue">overdue</span>
          </>
        ) : null}
      </td>
      <td>
        <span className={`badge ${f.status === "open" ? "badge-open" : "badge-closed"}`}>{f.status}</span>
        {f.closed_at ? <small className="muted"> {formatDate(f.closed_at)}</small> : null}
      </td>
      <td className="finding-note">{f.note || "–"}</td>
      {canEdit ? (
        <td>
          <button type="button" aria-label={`Edit finding ${f.title}`} onClick={onEdit}>
            Edit
          </button>
        </td>
      ) : null}
    </tr>
  );
}

/**
 * Owner choices: every account for admins (who can list them); for anyone else, nobody, themselves,
 * or the owner the finding has.
 */
function useOwnerChoices(current: FindingOwner | null): { id: string; label: string }[] {
  const { user, can } = useSession();
  const users = useUsers(can("admin"));
  const all = can("admin")
    ? (users.data ?? []).filter((u) => !u.disabled || u.id === current?.id)
    : [user, ...(current && current.id !== user.id ? [current] : [])];
  return all.map((u) => ({
    id: u.id,
    label: `${u.display_name ? `${u.display_name} <${u.email}>` : u.email}${u.id === user.id ? " (you)" : ""}`,
  }));
}

function FindingForm({
  vendor,
  finding,
  onDone,
  onCancel,
}: {
  vendor: Vendor;
  finding?: VendorFinding;
  onDone: (f: VendorFinding) => void;
  onCancel: () => void;
}) {
  const client = useQueryClient();
  const [title, setTitle] = useState(finding?.title ?? "");
  const [severity, setSeverity] = useState<Severity>(finding?.severity ?? "medium");
  const [owner, setOwner] = useState(finding?.owner?.id ?? "");
  const [due, setDue] = useState(finding?.due_at ?? "");
  const [status, setStatus] = useState<VendorFinding["status"]>(finding?.status ?? "open");
  const [note, setNote] = useState(finding?.note ?? "");
  const owners = useOwnerChoices(finding?.owner ?? null);
  const save = useMutation({
    mutationFn: () => {
      const common = {
        title: title.trim(),
        severity,
        owner_id: owner || null,
        due_at: due || null,
        note: note.trim() || null,
      };
      return finding
        ? api.patch<VendorFinding>(`/vendor-findings/${finding.id}`, { ...common, status })
        : api.post<VendorFinding>(`/vendors/${vendor.id}/findings`, common);
    },
    onSuccess: async (f) => {
      await client.invalidateQueries({ queryKey: ["vendors"] });
      onDone(f);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const name = finding ? `Edit finding: ${finding.title}` : "New finding";
  return (
    <form className="finding-form" onSubmit={submit} aria-label={name}>
      <div className="form-grid">
        <Field label="Title">
          {(id) => (
            <input
              id={id}
              required
              maxLength={300}
              value={title}
              onChange={(e) => setTitle(e.target.value)}
            />
          )}
        </Field>
        <Field label="Severity">
          {(id) => (
            <select id={id} value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Owner">
          {(id) => (
            <select id={id} value={owner} onChange={(e) => setOwner(e.target.value)}>
              <option value="">(nobody yet)</option>
              {owners.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Due date">
          {(id) => <input id={id} type="date" value={due} onChange={(e) => setDue(e.target.value)} />}
        </Field>
        {finding ? (
          <Field label="Status">
            {(id) => (
              <select
                id={id}
                value={status}
                onChange={(e) => setStatus(e.target.value as VendorFinding["status"])}
              >
                <option value="open">open</option>
                <option value="closed">closed</option>
              </select>
            )}
          </Field>
        ) : null}
      </div>
      <Field label="Note">
        {(id) => (
          <textarea
            id={id}
            rows={3}
            maxLength={20_000}
            value={note}
            onChange={(e) => setNote(e.target.value)}
          />
        )}
      </Field>
      <ErrorMessage error={save.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {finding ? "Save finding" : "Add finding"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
