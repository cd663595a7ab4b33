import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { TimelineEntry } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { Card, ErrorMessage, Field, formatDate, Loading } from "../layout/ui.tsx";
import { useActorName } from "../obligations/use-obligations.ts";
import { localToIso } from "./incidents-page.tsx";

export function useTimeline(incidentId: string) {
  return useQuery({
    queryKey: ["incident", incidentId, "timeline"],
    queryFn: () => api.get<TimelineEntry[]>(`/incidents/${incidentId}/timeline`),
  });
}

const KINDS = ["note", "call", "email", "meeting", "decision", "action"];

/**
 * The incident's story, oldest first (newest last), as the server orders it: entries people wrote and
 * the ones the system writes itself (kind `system`). The form to add an entry follows the list.
 */
export function TimelineCard({ incidentId }: { incidentId: string }) {
  const { can } = useSession();
  const timeline = useTimeline(incidentId);
  const actorName = useActorName();
  return (
    <Card title="Timeline" className="timeline-card">
      <p className="muted">Oldest first; the newest entry is last.</p>
      <ErrorMessage error={timeline.error} />
      {!timeline.data ? (
        timeline.error ? null : (
          <Loading what="Loading the timeline" />
        )
      ) : timeline.data.length === 0 ? (
        <p>No entries yet.</p>
      ) : (
        <ol className="timeline">
          {timeline.data.map((e) => {
            const system = e.kind === "system";
            return (
              <li key={e.id} className={system ? "system" : undefined}>
                <div className="timeline-meta">
                  <time dateTime={e.at}>{formatDate(e.at)}</time>
                  <span className={`badge badge-kind${system ? " badge-system" : ""}`}>{e.kind}</span>
                  <span className="muted">{system ? "system" : actorName(e.author)}</span>
                </div>
                <p className="timeline-body">{e.body}</p>
              </li>
            );
          })}
        </ol>
      )}
      {can("responder") ? <AddEntry incidentId={incidentId} /> : null}
    </Card>
  );
}

function AddEntry({ incidentId }: { incidentId: string }) {
  const client = useQueryClient();
  const [kind, setKind] = useState("note");
  const [body, setBody] = useState("");
  const [at, setAt] = useState("");
  const add = useMutation({
    mutationFn: () =>
      api.post<TimelineEntry>(`/incidents/${incidentId}/timeline`, {
        kind: kind.trim() || undefined,
        body,
        at: localToIso(at),
      }),
    onSuccess: async () => {
      setBody("");
      setAt("");
      await client.invalidateQueries({ queryKey: ["incident", incidentId, "timeline"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <form className="form-grid timeline-form" onSubmit={submit} aria-label="Add a timeline entry">
      <h3 className="span-all">Add an entry</h3>
      <Field label="Kind" hint="A short lower-case word: note, call, email, meeting…">
        {(id) => (
          <>
            <input
              id={id}
              list={`${id}-kinds`}
              required
              maxLength={40}
              pattern="[a-z][a-z0-9_]*"
              value={kind}
              onChange={(e) => setKind(e.target.value)}
            />
            <datalist id={`${id}-kinds`}>
              {KINDS.map((k) => (
                <option key={k} value={k} />
              ))}
            </datalist>
          </>
        )}
      </Field>
      <Field label="When" hint="Your time zone; leave empty for now">
        {(id) => <input id={id} type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} />}
      </Field>
      <div className="span-all">
        <Field label="What happened">
          {(id) => (
            <textarea
              id={id}
              required
              rows={3}
              maxLength={20_000}
              value={body}
              onChange={(e) => setBody(e.target.value)}
            />
          )}
        </Field>
      </div>
      <ErrorMessage error={add.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={add.isPending}>
          Add entry
        </button>
      </div>
    </form>
  );
}
