import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { API, api } from "../api/client.ts";
import type { Filing, ObligationNotice } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { isoToLocal } from "../incidents/clocks.tsx";
import { localToIso } from "../incidents/incidents-page.tsx";
import { ErrorMessage, Field, formatBytes, formatDate } from "../layout/ui.tsx";
import { useActorName } from "./use-obligations.ts";

/** The server's limit for an evidence file (10 MiB before base64). */
export const EVIDENCE_MAX_BYTES = 10 * 1024 * 1024;

/** A file's bytes as base64 (without the data: URL's prefix). */
function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result ?? "");
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsDataURL(file);
  });
}

/** Marks a notice as given: when, under which reference, with an optional proof (sealed on the server). */
export function FilingForm({
  incidentId,
  notice,
  title,
  onDone,
}: {
  incidentId: string;
  notice: ObligationNotice;
  title: string;
  onDone: () => void;
}) {
  const client = useQueryClient();
  const [filedAt, setFiledAt] = useState(() => isoToLocal(new Date().toISOString()));
  const [reference, setReference] = useState("");
  const [note, setNote] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const first = useRef<HTMLInputElement>(null);
  // the button that opened the form is gone: keyboard focus moves into the form
  useEffect(() => first.current?.focus(), []);
  const record = useMutation({
    mutationFn: async () => {
      const evidence = file ? { name: file.name, content_base64: await readAsBase64(file) } : undefined;
      return api.post<Filing>(`/incidents/${incidentId}/filings`, {
        regime: notice.regime,
        audience: notice.audience,
        filed_at: localToIso(filedAt),
        reference: reference.trim() || null,
        note: note.trim() || null,
        ...(evidence ? { evidence } : {}),
      });
    },
    onSuccess: async () => {
      await Promise.all([
        client.invalidateQueries({ queryKey: ["incident", incidentId, "filings"] }),
        client.invalidateQueries({ queryKey: ["incident", incidentId, "obligations"] }),
        client.invalidateQueries({ queryKey: ["incident", incidentId, "timeline"] }),
      ]);
      onDone();
    },
  });
  const pick = (f: File | null) => {
    setFileError(null);
    if (f && f.size > EVIDENCE_MAX_BYTES) {
      setFileError(`${f.name} is ${formatBytes(f.size)}: the evidence file may be at most 10 MB.`);
      setFile(null);
      return;
    }
    if (f && f.size === 0) {
      setFileError(`${f.name} is empty.`);
      setFile(null);
      return;
    }
    setFile(f);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (fileError) return;
    record.mutate();
  };
  return (
    <form className="form-grid filing-form" onSubmit={submit} aria-label={`File notice: ${title}`}>
      <Field label="Filed at" hint="Your time zone">
        {(id) => (
          <input
            id={id}
            ref={first}
            type="datetime-local"
            required
            max={isoToLocal(new Date().toISOString())}
            value={filedAt}
            onChange={(e) => setFiledAt(e.target.value)}
          />
        )}
      </Field>
      <Field label="Reference" hint="The authority's case or submission number, if any">
        {(id) => (
          <input id={id} maxLength={300} value={reference} onChange={(e) => setReference(e.target.value)} />
        )}
      </Field>
      <div className="span-all">
        <Field label="Note">
          {(id) => (
            <textarea
              id={id}
              rows={2}
              maxLength={20_000}
              value={note}
              onChange={(e) => setNote(e.target.value)}
            />
          )}
        </Field>
      </div>
      <Field
        label="Evidence file (optional)"
        hint="The submitted form or a receipt, at most 10 MB; stored sealed, readable by analysts and up"
      >
        {(id) => <input id={id} type="file" onChange={(e) => pick(e.target.files?.[0] ?? null)} />}
      </Field>
      {fileError ? (
        <p className="error" role="alert">
          {fileError}
        </p>
      ) : null}
      <ErrorMessage error={record.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={record.isPending || !!fileError}>
          {record.isPending ? "Recording…" : "Record filing"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Every filing of one notice (the first is the one that closes its deadline). */
export function FilingList({ incidentId, filings }: { incidentId: string; filings: Filing[] }) {
  const { can } = useSession();
  const actorName = useActorName();
  return (
    <div className="filings">
      <strong>Filed</strong>
      <ul>
        {filings.map((f) => (
          <li key={f.id}>
            <time dateTime={f.filed_at}>{formatDate(f.filed_at)}</time>
            {f.reference ? <>, reference {f.reference}</> : null}, recorded by {actorName(f.filed_by)}
            {f.note ? <p className="filing-note">{f.note}</p> : null}
            {f.evidence ? (
              <div>
                Evidence: {f.evidence.name}
                {f.evidence.bytes != null ? ` (${formatBytes(f.evidence.bytes)})` : ""}{" "}
                {!f.evidence.available ? (
                  <span className="muted">purged after the retention period</span>
                ) : can("analyst") ? (
                  <a
                    href={`${API}/incidents/${encodeURIComponent(incidentId)}/filings/${encodeURIComponent(f.id)}/evidence`}
                    download
                  >
                    Download evidence
                    <span className="visually-hidden">: {f.evidence.name}</span>
                  </a>
                ) : null}
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
