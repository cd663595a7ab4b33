import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, query } from "../api/client.ts";
import type { AnalysisRun, Page, QuarantinedRow } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { CellText } from "../impact/cell-text.tsx";
import { useRunSummary } from "../impact/use-run.ts";
import { Card, ErrorMessage, formatDate, formatNumber, Loading, Notice, Pager } from "../layout/ui.tsx";

const LIMIT = 25;
const RAW_SHOWN = 300;

/**
 * The rows the latest analysis could not use, with the reason for each, a page at a time; above them
 * the reconciliation of the counts: every row read is either used or quarantined.
 */
export function QuarantineTable({
  incidentId,
  run,
}: {
  incidentId: string;
  run: AnalysisRun | null | undefined;
}) {
  const { can } = useSession();
  return (
    <Card title="Quarantine">
      {run === undefined ? (
        <Loading what="Loading the latest analysis" />
      ) : run === null ? (
        <p className="muted">No analysis has succeeded yet: the quarantine shows once one has.</p>
      ) : (
        <>
          <p className="muted">
            Rows of the latest successful analysis ({formatDate(run.finished_at ?? run.created_at)}) that
            could not be used.
          </p>
          <Reconcile incidentId={incidentId} runId={run.id} />
          {can("analyst") ? (
            <QuarantineRows key={run.id} incidentId={incidentId} runId={run.id} />
          ) : (
            <Notice>Quarantined rows hold personal data: analysts and above can read them.</Notice>
          )}
        </>
      )}
    </Card>
  );
}

function Reconcile({ incidentId, runId }: { incidentId: string; runId: string }) {
  const summary = useRunSummary(incidentId, runId);
  if (summary.error) return <ErrorMessage error={summary.error} />;
  if (!summary.data) return null;
  const { read, used, quarantined } = summary.data.rows;
  const ok = read === used + quarantined;
  return (
    <p className={ok ? "reconcile" : "reconcile error"} data-testid="quarantine-reconcile">
      Rows read {formatNumber(read)} = used {formatNumber(used)} + quarantined {formatNumber(quarantined)}
      {ok ? ": the counts reconcile, no row was dropped silently." : ": the counts do not reconcile."}
    </p>
  );
}

function QuarantineRows({ incidentId, runId }: { incidentId: string; runId: string }) {
  const [offset, setOffset] = useState(0);
  const rows = useQuery({
    queryKey: ["incident", incidentId, "run", runId, "quarantine", offset],
    queryFn: () =>
      api.get<Page<QuarantinedRow>>(
        `/incidents/${incidentId}/analyses/${runId}/quarantine${query({ offset, limit: LIMIT })}`,
      ),
    placeholderData: keepPreviousData,
  });
  if (rows.error) return <ErrorMessage error={rows.error} />;
  if (!rows.data) return <Loading what="Loading the quarantined rows" />;
  if (rows.data.total === 0) return <p>No row was quarantined.</p>;
  // a row's place in the whole quarantine is its identity
  const items = rows.data.items.map((r, i) => ({ ...r, position: rows.data.offset + i }));
  return (
    <>
      <div className="table-wrap">
        <table className="quarantine-table">
          <caption className="visually-hidden">Quarantined rows</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col" className="num">
                Line / row
              </th>
              <th scope="col">Reason</th>
              <th scope="col">Raw (excerpt)</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.position}>
                <td>
                  <CellText value={r.file} />
                </td>
                <td className="num">
                  {r.line != null ? `line ${r.line}` : r.row != null ? `row ${r.row}` : "–"}
                </td>
                <td>
                  <CellText value={r.reason} />
                </td>
                <td>
                  {r.raw === null ? (
                    <span className="muted">not kept</span>
                  ) : (
                    <code className="raw">
                      {r.raw.length > RAW_SHOWN ? `${r.raw.slice(0, RAW_SHOWN)}…` : r.raw}
                    </code>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager offset={offset} limit={LIMIT} total={rows.data.total} onChange={setOffset} />
    </>
  );
}
