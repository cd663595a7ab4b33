import { useQueryClient } from "@tanstack/react-query";
import { type DragEvent, type FormEvent, useRef, useState } from "react";
import { ApiError, upload } from "../api/client.ts";
import type { Dataset } from "../api/types.ts";
import { Card, ErrorMessage, Field, formatBytes, Notice, ProgressBar } from "../layout/ui.tsx";

/**
 * Uploads one vendor export with its progress (bytes sent of the total) and a way to cancel. The file
 * is streamed and sealed by the server; any size up to its limit works.
 */
export function UploadDataset({
  incidentId,
  onUploaded,
}: {
  incidentId: string;
  onUploaded: (dataset: Dataset) => void;
}) {
  const client = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [sent, setSent] = useState<{ sent: number; total: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [cancelled, setCancelled] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const uploading = sent !== null;

  const choose = (f: File | null) => {
    setFile(f);
    setError(null);
    setDone(null);
    setCancelled(false);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file || uploading) return;
    const form = new FormData();
    form.append("file", file, file.name);
    const controller = new AbortController();
    abort.current = controller;
    setError(null);
    setDone(null);
    setCancelled(false);
    setSent({ sent: 0, total: file.size });
    try {
      const dataset = await upload<Dataset>(
        `/incidents/${incidentId}/datasets`,
        form,
        (s, total) => setSent({ sent: s, total: total || file.size }),
        controller.signal,
      );
      await client.invalidateQueries({ queryKey: ["incident", incidentId, "datasets"] });
      setDone(dataset.file_name);
      setFile(null);
      if (input.current) input.current.value = "";
      onUploaded(dataset);
    } catch (err) {
      // a cancel is what the user asked for: say so, but not as an error
      if (err instanceof ApiError && err.code === "ABORTED") setCancelled(true);
      else setError(err);
    } finally {
      abort.current = null;
      setSent(null);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (uploading) return;
    const f = e.dataTransfer.files[0];
    if (f) choose(f);
  };

  return (
    <Card title="Upload a dataset">
      <form
        onSubmit={submit}
        aria-label="Upload a dataset"
        className={`drop-zone ${dragging ? "dragging" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <div>
          <Field
            label="Dataset file"
            hint="The vendor's export as they sent it: JSON lines, CSV, JSON, Parquet or a Mixpanel export, gzip or not. You can also drop it here."
          >
            {(id) => (
              <input
                id={id}
                ref={input}
                type="file"
                disabled={uploading}
                onChange={(e) => choose(e.target.files?.[0] ?? null)}
              />
            )}
          </Field>
          {file ? (
            <p className="muted">
              Selected: <span className="file-name">{file.name}</span> ({formatBytes(file.size)})
            </p>
          ) : null}
        </div>
        {sent ? (
          <div className="upload-progress">
            <ProgressBar done={sent.sent} total={sent.total} label="Upload" />
            <p className="muted" aria-live="polite">
              {formatBytes(sent.sent)} of {formatBytes(sent.total)} sent
            </p>
          </div>
        ) : null}
        <ErrorMessage error={error} />
        {cancelled ? <Notice>The upload was cancelled.</Notice> : null}
        {done ? (
          <p className="notice" role="status">
            Uploaded <span className="file-name">{done}</span>. Check its fields and mapping below, then run
            the analysis.
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={!file || uploading}>
            Upload
          </button>
          {uploading ? (
            <button type="button" onClick={() => abort.current?.abort()}>
              Cancel upload
            </button>
          ) : null}
        </div>
      </form>
    </Card>
  );
}
