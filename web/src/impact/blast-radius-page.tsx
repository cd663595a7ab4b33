import { Link } from "react-router-dom";
import { API } from "../api/client.ts";
import type { AnalysisRun, Summary } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { useCategories } from "../datasets/use-datasets.ts";
import { useIncidentId } from "../incidents/incident-layout.tsx";
import { useLatestRun } from "../incidents/use-latest-run.ts";
import { Card, ErrorMessage, formatDate, formatNumber, Loading, Notice, Stat } from "../layout/ui.tsx";
import { CategoryChart } from "./category-chart.tsx";
import { OrgsTable } from "./orgs-table.tsx";
import { PeopleTable } from "./people-table.tsx";
import { useRunSummary } from "./use-run.ts";
import { countryName, WorldMap } from "./world-map.tsx";

/**
 * Who is affected, from the incident's latest successful analysis: the headline counts, people by
 * data category and by country, the organisations with their admins, the people themselves (paged
 * and searched on the server) and the result files.
 */
export function BlastRadiusPage() {
  const incidentId = useIncidentId();
  const { run, runs, error } = useLatestRun(incidentId);
  if (error) return <ErrorMessage error={error} />;
  if (run === undefined) return <Loading what="Loading the latest analysis" />;
  const pending = runs?.find((r) => r.status === "queued" || r.status === "running");
  if (run === null)
    return (
      <section className="card">
        <h2>No blast radius yet</h2>
        <p>
          {pending
            ? "The first analysis is still running. This page fills in once it has finished."
            : "No analysis of this incident has succeeded yet."}{" "}
          <Link to={`/incidents/${incidentId}/datasets`}>Go to Datasets</Link> to upload the vendor's export
          and run the analysis.
        </p>
      </section>
    );
  return <Results incidentId={incidentId} run={run} newer={pending} />;
}

function Results({
  incidentId,
  run,
  newer,
}: {
  incidentId: string;
  run: AnalysisRun;
  newer: AnalysisRun | undefined;
}) {
  const { can } = useSession();
  const summary = useRunSummary(incidentId, run.id);
  const categories = useCategories();
  const s = summary.data;
  return (
    <div className="blast-radius">
      <p className="muted run-line">
        From the analysis finished {formatDate(run.finished_at ?? run.created_at)} of{" "}
        {formatNumber(run.dataset_ids.length)} dataset{run.dataset_ids.length === 1 ? "" : "s"}.{" "}
        <Link to={`/incidents/${incidentId}/datasets`}>Datasets and analyses</Link>
      </p>
      {newer ? (
        <Notice>A newer analysis is {newer.status}: this page shows the latest finished one.</Notice>
      ) : null}
      <ErrorMessage error={summary.error} />
      {!s ? (
        summary.error ? null : (
          <Loading what="Loading the summary" />
        )
      ) : (
        <>
          <section aria-labelledby="headline-counts">
            <h2 id="headline-counts" className="visually-hidden">
              Headline counts
            </h2>
            <div className="stats">
              <Stat label="Affected people" value={formatNumber(s.affected_people)} />
              <Stat label="Affected organisations" value={formatNumber(s.affected_orgs)} />
              <Stat label="Admins to notify" value={formatNumber(s.admins_to_notify)} />
              <Stat label="Rows read" value={formatNumber(s.rows.read)} />
              <Stat label="Rows used" value={formatNumber(s.rows.used)} />
              <Stat label="Rows quarantined" value={formatNumber(s.rows.quarantined)} />
            </div>
          </section>
          <div className="grid-2">
            <Card title="People by data category">
              <CategoryChart byCategory={s.by_category} categories={categories.data} />
            </Card>
            <Card title="People by country">
              <WorldMap byCountry={s.by_country} />
              <TopCountries byCountry={s.by_country} />
            </Card>
          </div>
          {can("analyst") ? (
            <>
              <Card title="Affected organisations">
                <OrgsTable incidentId={incidentId} runId={run.id} categories={categories.data} />
              </Card>
              <Card title="Affected people">
                <PeopleTable
                  incidentId={incidentId}
                  runId={run.id}
                  byCountry={s.by_country}
                  byCategory={s.by_category}
                  categories={categories.data}
                />
              </Card>
              <Downloads incidentId={incidentId} runId={run.id} summary={s} />
            </>
          ) : (
            <Notice>
              The affected people and organisations, and the result files, hold personal data: analysts and
              above can see them. Ask an admin for the analyst role if you need them.
            </Notice>
          )}
        </>
      )}
    </div>
  );
}

function TopCountries({ byCountry }: { byCountry: Record<string, number> }) {
  const top = Object.entries(byCountry)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 10);
  if (top.length === 0) return null;
  return (
    <div className="table-wrap top-countries">
      <table>
        <caption>Top countries</caption>
        <thead>
          <tr>
            <th scope="col">Country</th>
            <th scope="col" className="num">
              Affected people
            </th>
          </tr>
        </thead>
        <tbody>
          {top.map(([code, n]) => (
            <tr key={code}>
              <th scope="row">
                {countryName(code)}
                {code !== "unknown" ? <span className="muted"> ({code})</span> : null}
              </th>
              <td className="num">{formatNumber(n)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const FILES = [
  ["people.csv", "one row per affected person"],
  ["orgs.csv", "one row per affected organisation"],
  ["admins.csv", "the admins to notify, per organisation"],
  ["quarantine.csv", "the rows that could not be used"],
  ["summary.json", "the counts"],
  ["obligations.json", "the notices owed, from the incident's clocks"],
] as const;

function Downloads({ incidentId, runId, summary }: { incidentId: string; runId: string; summary: Summary }) {
  const base = `${API}/incidents/${encodeURIComponent(incidentId)}/analyses/${encodeURIComponent(runId)}/files`;
  return (
    <Card title="Downloads">
      <p className="muted">
        The same files that <code>blastradius analyze --out</code> writes (see README “Output”).
      </p>
      <ul className="downloads">
        {FILES.map(([name, what]) => (
          <li key={name}>
            <a href={`${base}/${name}`} download>
              {name}
            </a>{" "}
            <span className="muted">
              {what}
              {name === "people.csv" ? ` (${formatNumber(summary.affected_people)} rows)` : ""}
              {name === "orgs.csv" ? ` (${formatNumber(summary.affected_orgs)} rows)` : ""}
              {name === "quarantine.csv" ? ` (${formatNumber(summary.rows.quarantined)} rows)` : ""}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
