import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../api/client.ts";
import type { Dataset } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { CellText } from "../impact/cell-text.tsx";
import { Card, ErrorMessage, formatBytes, formatDate, Loading, StatusBadge } from "../layout/ui.tsx";

/** The incident's datasets; choosing one shows its fields and mapping. */
export function DatasetList({
  incidentId,
  datasets,
  error,
  selected,
  onSelect,
}: {
  incidentId: string;
  datasets: Dataset[] | undefined;
  error: unknown;
  selected: string | null;
  onSelect: (id: string | null) => void;
}) {
  const { can } = useSession();
  return (
    <Card title="Datasets">
      <ErrorMessage error={error} />
      {!datasets ? (
        error ? null : (
          <Loading what="Loading the datasets" />
        )
      ) : datasets.length === 0 ? (
        <p>No dataset yet. Upload the vendor's export to work out who is affected.</p>
      ) : (
        <div className="table-wrap">
          <table className="datasets-table">
            <caption className="visually-hidden">The incident's datasets</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">SHA-256</th>
                <th scope="col">Format</th>
                <th scope="col">Uploaded</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => (
                <tr key={d.id} className={d.id === selected ? "selected" : undefined}>
                  <td>
                    <CellText value={d.file_name} />
                  </td>
                  <td className="num">{formatBytes(d.bytes)}</td>
                  <td>
                    <code title={d.sha256}>{d.sha256.slice(0, 12)}</code>
                  </td>
                  <td>{d.format ?? <span className="muted">detected when analysed</span>}</td>
                  <td>{formatDate(d.uploaded_at)}</td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td>
                    <div className="actions nowrap">
                      {d.status === "stored" && can("analyst") ? (
                        <button
                          type="button"
                          aria-pressed={d.id === selected}
                          aria-label={`Fields of ${d.file_name}`}
                          onClick={() => onSelect(d.id === selected ? null : d.id)}
                        >
                          Fields
                        </button>
                      ) : null}
                      {can("responder") ? (
                        <DeleteDataset
                          incidentId={incidentId}
                          dataset={d}
                          onDeleted={() => d.id === selected && onSelect(null)}
                        />
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {datasets?.length && !can("analyst") ? (
        <p className="muted">Analysts and above can see a dataset's fields and change its mapping.</p>
      ) : null}
    </Card>
  );
}

/** Delete asks once more in place: no browser dialog. */
function DeleteDataset({
  incidentId,
  dataset,
  onDeleted,
}: {
  incidentId: string;
  dataset: Dataset;
  onDeleted: () => void;
}) {
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => api.delete(`/incidents/${incidentId}/datasets/${dataset.id}`),
    onSuccess: async () => {
      onDeleted();
      await client.invalidateQueries({ queryKey: ["incident", incidentId, "datasets"] });
    },
  });
  if (!confirming)
    return (
      <button
        type="button"
        className="danger"
        aria-label={`Delete ${dataset.file_name}`}
        onClick={() => setConfirming(true)}
      >
        Delete
      </button>
    );
  return (
    <>
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        aria-label={`Confirm: delete ${dataset.file_name} and its file`}
        onClick={() => remove.mutate()}
      >
        Delete for good
      </button>
      <button type="button" onClick={() => setConfirming(false)}>
        Keep
      </button>
      <ErrorMessage error={remove.error} />
    </>
  );
}
