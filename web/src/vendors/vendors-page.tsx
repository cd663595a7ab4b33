import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { Vendor } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { useVendors } from "../incidents/incidents-page.tsx";
import { ErrorMessage, Field, Loading, Notice, PageHeader, StatusBadge } from "../layout/ui.tsx";

const RISK_TIERS = ["low", "medium", "high", "critical"] as const;
const VENDOR_STATUSES = ["active", "under_review", "offboarding", "offboarded"] as const;

/** A website is a link only when it is plainly http(s): anything else (e.g. `javascript:`) stays text. */
export function isWebUrl(value: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(value.trim());
}

export function VendorsPage() {
  const { can } = useSession();
  const vendors = useVendors();
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Vendor | null>(null);
  const [deleting, setDeleting] = useState<Vendor | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (v: Vendor) => api.delete(`/vendors/${v.id}`),
    onSuccess: async (_r, v) => {
      setDeleting(null);
      setDone(`Vendor ${v.name} deleted.`);
      await client.invalidateQueries({ queryKey: ["vendors"] });
    },
  });
  const canEdit = can("responder");
  return (
    <section>
      <PageHeader title="Vendors">
        {canEdit ? (
          <button
            type="button"
            className="primary"
            aria-expanded={creating}
            onClick={() => {
              setCreating(!creating);
              setEditing(null);
            }}
          >
            New vendor
          </button>
        ) : null}
      </PageHeader>
      <p className="muted">
        The companies that process your data, and what each of them receives: when one reports a breach, open
        an incident for it.
      </p>
      {done ? <Notice>{done}</Notice> : null}
      {creating ? (
        <VendorForm
          onDone={(v) => {
            setCreating(false);
            setDone(`Vendor ${v.name} added.`);
          }}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      {editing ? (
        <VendorForm
          key={editing.id}
          vendor={editing}
          onDone={(v) => {
            setEditing(null);
            setDone(`Vendor ${v.name} saved.`);
          }}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {deleting ? (
        <div className="card" role="alertdialog" aria-labelledby="delete-vendor-title">
          <h2 id="delete-vendor-title">Delete {deleting.name}?</h2>
          <p>The vendor is removed for good. A vendor that has incidents cannot be deleted.</p>
          <ErrorMessage error={remove.error} />
          <div className="actions">
            <button
              type="button"
              className="danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate(deleting)}
            >
              Yes, delete vendor
            </button>
            <button
              type="button"
              onClick={() => {
                setDeleting(null);
                remove.reset();
              }}
            >
              Keep it
            </button>
          </div>
        </div>
      ) : null}
      <ErrorMessage error={vendors.error} />
      {!vendors.data ? (
        <Loading />
      ) : vendors.data.length === 0 ? (
        <p>No vendor yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Website</th>
                <th scope="col">Risk tier</th>
                <th scope="col">Status</th>
                <th scope="col">What it receives</th>
                {canEdit ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {vendors.data.map((v) => (
                <tr key={v.id}>
                  <td>{v.name}</td>
                  <td className="wrap-anywhere">
                    {!v.website ? (
                      "–"
                    ) : isWebUrl(v.website) ? (
                      <a href={v.website.trim()} rel="noopener noreferrer" target="_blank">
                        {v.website}
                      </a>
                    ) : (
                      v.website
                    )}
                  </td>
                  <td>
                    {v.risk_tier ? <span className={`badge risk-${v.risk_tier}`}>{v.risk_tier}</span> : "–"}
                  </td>
                  <td>
                    <StatusBadge status={v.status} />
                  </td>
                  <td className="vendor-notes">{v.notes || "–"}</td>
                  {canEdit ? (
                    <td>
                      <div className="actions nowrap">
                        <button
                          type="button"
                          aria-label={`Edit ${v.name}`}
                          onClick={() => {
                            setEditing(v);
                            setCreating(false);
                            setDone(null);
                          }}
                        >
                          Edit
                        </button>
                        {can("admin") ? (
                          <button
                            type="button"
                            className="danger"
                            aria-label={`Delete ${v.name}`}
                            onClick={() => {
                              remove.reset();
                              setDeleting(v);
                              setDone(null);
                            }}
                          >
                            Delete
                          </button>
                        ) : null}
                      </div>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function VendorForm({
  vendor,
  onDone,
  onCancel,
}: {
  vendor?: Vendor;
  onDone: (v: Vendor) => void;
  onCancel: () => void;
}) {
  const client = useQueryClient();
  const [name, setName] = useState(vendor?.name ?? "");
  const [website, setWebsite] = useState(vendor?.website ?? "");
  const [tier, setTier] = useState<string>(vendor?.risk_tier ?? "");
  const [status, setStatus] = useState<string>(vendor?.status ?? "active");
  const [notes, setNotes] = useState(vendor?.notes ?? "");
  const save = useMutation({
    mutationFn: () => {
      const body = {
        name: name.trim(),
        website: website.trim() || null,
        risk_tier: tier || null,
        status,
        notes: notes.trim() || null,
      };
      return vendor ? api.patch<Vendor>(`/vendors/${vendor.id}`, body) : api.post<Vendor>("/vendors", body);
    },
    onSuccess: async (v) => {
      await client.invalidateQueries({ queryKey: ["vendors"] });
      onDone(v);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const title = vendor ? `Edit ${vendor.name}` : "New vendor";
  return (
    <form className="card" onSubmit={submit} aria-label={vendor ? "Edit vendor" : "New vendor"}>
      <h2>{title}</h2>
      <div className="form-grid">
        <Field label="Name">
          {(id) => (
            <input id={id} required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        <Field label="Website" hint="e.g. https://vendor.example">
          {(id) => (
            <input
              id={id}
              type="text"
              inputMode="url"
              maxLength={500}
              value={website}
              onChange={(e) => setWebsite(e.target.value)}
            />
          )}
        </Field>
        <Field label="Risk tier">
          {(id) => (
            <select id={id} value={tier} onChange={(e) => setTier(e.target.value)}>
              <option value="">(not rated)</option>
              {RISK_TIERS.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Status">
          {(id) => (
            <select id={id} value={status} onChange={(e) => setStatus(e.target.value)}>
              {VENDOR_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s.replaceAll("_", " ")}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field
        label="What it receives"
        hint="The data you send this vendor, e.g. names, emails, page views; and any other notes"
      >
        {(id) => (
          <textarea
            id={id}
            rows={3}
            maxLength={10_000}
            value={notes}
            onChange={(e) => setNotes(e.target.value)}
          />
        )}
      </Field>
      <ErrorMessage error={save.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {vendor ? "Save vendor" : "Add vendor"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
