import { useSearchParams } from "react-router-dom";
import { useSession } from "../auth/session.tsx";
import { useIncidentId } from "../incidents/incident-layout.tsx";
import { useLatestRun } from "../incidents/use-latest-run.ts";
import { DatasetList } from "./dataset-list.tsx";
import { DatasetDetail } from "./mapping-editor.tsx";
import { QuarantineTable } from "./quarantine-table.tsx";
import { RunAnalysis } from "./run-analysis.tsx";
import { UploadDataset } from "./upload-dataset.tsx";
import { useDatasets } from "./use-datasets.ts";

/**
 * The incident's vendor exports: upload, the list, one dataset's fields and mapping, running the
 * analysis with its live progress, and the rows the latest analysis quarantined.
 */
export function DatasetsPage() {
  const incidentId = useIncidentId();
  const { can } = useSession();
  const datasets = useDatasets(incidentId);
  const { run } = useLatestRun(incidentId);
  // the chosen dataset lives in the address, so a link or a reload keeps it
  const [params, setParams] = useSearchParams();
  const selectedId = params.get("dataset");
  const select = (id: string | null) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (id) next.set("dataset", id);
        else next.delete("dataset");
        return next;
      },
      { replace: true },
    );
  const selected = datasets.data?.find((d) => d.id === selectedId && d.status === "stored");
  const stored = datasets.data?.filter((d) => d.status === "stored").length ?? 0;
  return (
    <div className="datasets-page">
      {can("analyst") ? <UploadDataset incidentId={incidentId} onUploaded={(d) => select(d.id)} /> : null}
      <DatasetList
        incidentId={incidentId}
        datasets={datasets.data}
        error={datasets.error}
        selected={selected?.id ?? null}
        onSelect={select}
      />
      {selected && can("analyst") ? (
        <DatasetDetail key={selected.id} incidentId={incidentId} dataset={selected} />
      ) : null}
      <RunAnalysis incidentId={incidentId} datasetCount={stored} />
      <QuarantineTable incidentId={incidentId} run={run} />
    </div>
  );
}
