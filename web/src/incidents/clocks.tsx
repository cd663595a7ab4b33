import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, Fragment, useEffect, useRef, useState } from "react";
import { api } from "../api/client.ts";
import type { Incident } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { Card, ErrorMessage, Field, formatDate } from "../layout/ui.tsx";
import { localToIso } from "./incidents-page.tsx";

/** The clocks the server keeps apart; each law says which one starts its deadline. */
export const CLOCKS = [
  ["vendor_detected", "Vendor detected", "When the vendor detected the breach"],
  ["vendor_notified", "Vendor notified us", "When the vendor told your company"],
  ["aware", "Aware", "When your company became aware: most deadlines count from it"],
  ["dataset_received", "Dataset received", "When the vendor's export arrived (set by the first upload)"],
  ["assessed", "Assessed", "When the assessment of the breach was done"],
] as const;
export type ClockName = (typeof CLOCKS)[number][0];

export const clockLabel = (name: string | null | undefined) =>
  CLOCKS.find(([n]) => n === name)?.[1] ?? name ?? "–";

/** An instant as the value of a `datetime-local` input: local wall time, to the minute. */
export function isoToLocal(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Invalidates what a clock or status change moves: the incident, its deadlines and its timeline. */
export function useIncidentChanged(id: string) {
  const client = useQueryClient();
  return (incident?: Incident) => {
    if (incident) client.setQueryData(["incident", id], incident);
    void client.invalidateQueries({ queryKey: ["incident", id, "obligations"] });
    void client.invalidateQueries({ queryKey: ["incident", id, "timeline"] });
    void client.invalidateQueries({ queryKey: ["incidents"] });
  };
}

export function ClocksCard({ incident }: { incident: Incident }) {
  const { can } = useSession();
  const [editing, setEditing] = useState<ClockName | null>(null);
  return (
    <Card title="Clocks" className="clocks">
      <p className="muted">Times are shown and entered in your time zone.</p>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Clock</th>
              <th scope="col">Time</th>
              {can("responder") ? (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {CLOCKS.map(([name, label, hint]) => {
              const at = incident.clocks[name];
              return (
                <Fragment key={name}>
                  <tr>
                    <th scope="row" className="clock-name">
                      {label}
                      <small className="muted">{hint}</small>
                    </th>
                    <td>
                      {at ? (
                        <time dateTime={at}>{formatDate(at)}</time>
                      ) : (
                        <span className="muted">not set</span>
                      )}
                    </td>
                    {can("responder") ? (
                      <td>
                        {editing === name ? null : (
                          <button type="button" aria-label={`Set ${label}`} onClick={() => setEditing(name)}>
                            {at ? "Change" : "Set"}
                          </button>
                        )}
                      </td>
                    ) : null}
                  </tr>
                  {editing === name ? (
                    <tr className="clock-edit">
                      <td colSpan={3}>
                        <ClockForm
                          incident={incident}
                          name={name}
                          label={label}
                          onDone={() => setEditing(null)}
                        />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function ClockForm({
  incident,
  name,
  label,
  onDone,
}: {
  incident: Incident;
  name: ClockName;
  label: string;
  onDone: () => void;
}) {
  const changed = useIncidentChanged(incident.id);
  const current = incident.clocks[name];
  const [value, setValue] = useState(() => isoToLocal(current ?? new Date().toISOString()));
  const input = useRef<HTMLInputElement>(null);
  // the button that opened the form is gone: keyboard focus moves into the form
  useEffect(() => input.current?.focus(), []);
  const save = useMutation({
    mutationFn: (at: string | null) => api.put<Incident>(`/incidents/${incident.id}/clocks/${name}`, { at }),
    onSuccess: (updated) => {
      changed(updated);
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(localToIso(value) ?? null);
  };
  return (
    <form className="clock-form" onSubmit={submit} aria-label={`${label} clock`}>
      <Field label={`${label} at`}>
        {(id) => (
          <input
            id={id}
            ref={input}
            type="datetime-local"
            required
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        )}
      </Field>
      <ErrorMessage error={save.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save clock
        </button>
        {current ? (
          <button type="button" disabled={save.isPending} onClick={() => save.mutate(null)}>
            Clear clock
          </button>
        ) : null}
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
