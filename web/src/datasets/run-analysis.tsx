import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client.ts";
import type { AnalysisRun } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { useLatestRun } from "../incidents/use-latest-run.ts";
import { Card, ErrorMessage, formatDate, formatNumber, ProgressBar, StatusBadge } from "../layout/ui.tsx";

const active = (r: AnalysisRun | undefined | null) => r?.status === "queued" || r?.status === "running";

/**
 * Starts an analysis of the incident's datasets and follows the newest run live: its stage and
 * progress while it works (polled every second), its error if it fails, and a link to the results.
 */
export function RunAnalysis({ incidentId, datasetCount }: { incidentId: string; datasetCount: number }) {
  const { can } = useSession();
  const client = useQueryClient();
  const { runs, error: runsError } = useLatestRun(incidentId);
  const [started, setStarted] = useState<string | null>(null);
  // the run this user started, else the newest run of the incident (the demo queues one at start)
  const runId = started ?? runs?.[0]?.id ?? null;
  const run = useQuery({
    queryKey: ["incident", incidentId, "analyses", runId],
    queryFn: () => api.get<AnalysisRun>(`/incidents/${incidentId}/analyses/${runId}`),
    enabled: runId !== null,
    refetchInterval: (q) => (!q.state.data || active(q.state.data) ? 1000 : false),
  });
  const start = useMutation({
    mutationFn: () => api.post<AnalysisRun>(`/incidents/${incidentId}/analyses`, {}),
    onSuccess: (r) => {
      client.setQueryData(["incident", incidentId, "analyses", r.id], r);
      setStarted(r.id);
    },
  });
  const current = run.data;
  const status = current?.status;
  // When the run ends, the pages that show results, the datasets (their detected format) and the
  // run list pick it up.
  const seen = useRef<string | undefined>(undefined);
  useEffect(() => {
    const before = seen.current;
    seen.current = status;
    if ((before === "queued" || before === "running") && (status === "succeeded" || status === "failed")) {
      void client.invalidateQueries({ queryKey: ["incident", incidentId, "analyses"], exact: true });
      void client.invalidateQueries({ queryKey: ["incident", incidentId, "datasets"] });
    }
  }, [status, client, incidentId]);

  return (
    <Card title="Analysis">
      <ErrorMessage error={runsError} />
      {can("analyst") ? (
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={start.isPending || active(current) || datasetCount === 0}
            onClick={() => start.mutate()}
          >
            Run analysis
          </button>
          <span className="muted">
            {datasetCount === 0
              ? "Upload a dataset first."
              : `Analyses all ${formatNumber(datasetCount)} dataset${datasetCount === 1 ? "" : "s"} of the incident with their mappings.`}
          </span>
        </div>
      ) : null}
      <ErrorMessage error={start.error ?? run.error} />
      {start.isPending ? (
        <p className="muted" role="status">
          Starting the analysis…
        </p>
      ) : current ? (
        <RunStatus incidentId={incidentId} run={current} />
      ) : runs?.length === 0 ? (
        <p className="muted">No analysis has run yet.</p>
      ) : null}
    </Card>
  );
}

function RunStatus({ incidentId, run }: { incidentId: string; run: AnalysisRun }) {
  const progress = run.job?.progress;
  return (
    <div className="run-status">
      {/* the words are announced as they change; the bar's percentage is not, once a second */}
      <div role="status" aria-live="polite">
        <p>
          <strong>Latest analysis</strong> <StatusBadge status={run.status} />{" "}
          <span className="muted">
            started {formatDate(run.started_at ?? run.created_at)}
            {run.finished_at ? `, finished ${formatDate(run.finished_at)}` : ""}
          </span>
        </p>
        {run.status === "queued" ? <p className="muted">Waiting for a worker…</p> : null}
        {run.status === "running" ? (
          <p>
            Stage: <strong>{progress?.stage ?? "starting"}</strong>
          </p>
        ) : null}
      </div>
      {run.status === "running" && progress ? (
        <>
          <ProgressBar done={progress.done} total={progress.total} label="Analysis progress" />
          {progress.total > 0 ? (
            <p className="muted">
              {formatNumber(progress.done)} of {formatNumber(progress.total)}
            </p>
          ) : null}
        </>
      ) : null}
      {run.status === "failed" ? (
        <p className="error" role="alert">
          The analysis failed
          {run.job ? ` after ${run.job.attempts} attempt${run.job.attempts === 1 ? "" : "s"}` : ""}:{" "}
          {run.job?.error ?? "no reason was recorded"}
        </p>
      ) : null}
      {run.status === "succeeded" ? (
        <p role="status">
          Analysis finished. <Link to={`/incidents/${incidentId}/blast-radius`}>See the blast radius</Link>
        </p>
      ) : null}
    </div>
  );
}
