import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api } from "../api/client.ts";
import type { Incident, Vendor } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { ErrorMessage, Field, formatDate, Loading, PageHeader, StatusBadge } from "../layout/ui.tsx";

export function useVendors() {
  return useQuery({ queryKey: ["vendors"], queryFn: () => api.get<Vendor[]>("/vendors") });
}

export function IncidentsPage() {
  const { can } = useSession();
  const incidents = useQuery({ queryKey: ["incidents"], queryFn: () => api.get<Incident[]>("/incidents") });
  const vendors = useVendors();
  const [creating, setCreating] = useState(false);
  const vendorName = (id: string | null) => vendors.data?.find((v) => v.id === id)?.name ?? "–";
  return (
    <section>
      <PageHeader title="Incidents">
        {can("responder") ? (
          <button
            type="button"
            className="primary"
            onClick={() => setCreating(!creating)}
            aria-expanded={creating}
          >
            New incident
          </button>
        ) : null}
      </PageHeader>
      {creating ? <CreateIncident vendors={vendors.data ?? []} onCancel={() => setCreating(false)} /> : null}
      <ErrorMessage error={incidents.error} />
      {!incidents.data ? (
        <Loading />
      ) : incidents.data.length === 0 ? (
        <p>No incident yet. Open one when a vendor reports a breach.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Incident</th>
                <th scope="col">Vendor</th>
                <th scope="col">Status</th>
                <th scope="col">Aware since</th>
                <th scope="col">Opened</th>
              </tr>
            </thead>
            <tbody>
              {incidents.data.map((i) => (
                <tr key={i.id}>
                  <td>
                    <Link to={`/incidents/${i.id}`}>{i.title}</Link>
                  </td>
                  <td>{vendorName(i.vendor_id)}</td>
                  <td>
                    <StatusBadge status={i.status} />
                  </td>
                  <td>{formatDate(i.clocks.aware)}</td>
                  <td>{formatDate(i.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** `datetime-local` gives local wall time without a zone; the API wants an instant. */
export const localToIso = (value: string) => (value ? new Date(value).toISOString() : undefined);

function CreateIncident({ vendors, onCancel }: { vendors: Vendor[]; onCancel: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [title, setTitle] = useState("");
  const [vendorId, setVendorId] = useState("");
  const [description, setDescription] = useState("");
  const [country, setCountry] = useState("");
  const [aware, setAware] = useState("");
  const create = useMutation({
    mutationFn: () =>
      api.post<Incident>("/incidents", {
        title,
        vendor_id: vendorId || null,
        description: description || null,
        controller_country: country ? country.toUpperCase() : null,
        ...(aware ? { clocks: { aware: localToIso(aware) } } : {}),
      }),
    onSuccess: async (incident) => {
      await client.invalidateQueries({ queryKey: ["incidents"] });
      navigate(`/incidents/${incident.id}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="card form-grid" onSubmit={submit} aria-label="New incident">
      <Field label="Title">
        {(id) => (
          <input id={id} required maxLength={300} value={title} onChange={(e) => setTitle(e.target.value)} />
        )}
      </Field>
      <Field label="Vendor">
        {(id) => (
          <select id={id} value={vendorId} onChange={(e) => setVendorId(e.target.value)}>
            <option value="">(none)</option>
            {vendors.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Controller country" hint="Two letters, e.g. US or DE: where your company is established">
        {(id) => (
          <input
            id={id}
            maxLength={2}
            pattern="[A-Za-z]{2}"
            value={country}
            onChange={(e) => setCountry(e.target.value)}
          />
        )}
      </Field>
      <Field label="Aware since" hint="When your company became aware of the breach: deadlines count from it">
        {(id) => (
          <input id={id} type="datetime-local" value={aware} onChange={(e) => setAware(e.target.value)} />
        )}
      </Field>
      <Field label="Description">
        {(id) => (
          <textarea id={id} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        )}
      </Field>
      <ErrorMessage error={create.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          Open incident
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
