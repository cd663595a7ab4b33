import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { API, ApiError } from "../api/client.ts";
import { useIncidentId } from "../incidents/incident-layout.tsx";
import { useLatestRun } from "../incidents/use-latest-run.ts";
import { ErrorMessage, Loading } from "../layout/ui.tsx";

/** A report's Markdown as plain text (rendered as text, never as HTML). */
async function fetchText(path: string): Promise<string> {
  const response = await fetch(`${API}${path}`, {
    credentials: "same-origin",
    headers: { accept: "text/markdown, text/plain;q=0.9, application/json;q=0.5" },
  });
  const text = await response.text();
  if (!response.ok) {
    let message = `GET ${path}: ${response.status} ${response.statusText}`;
    let code = `HTTP_${response.status}`;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
      message = parsed.error?.message ?? message;
      code = parsed.error?.code ?? code;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, code, message);
  }
  return text;
}

/** The reports counsel and management read: the regulator's draft and the incident report. */
export function ReportsPage() {
  const id = useIncidentId();
  const latest = useLatestRun(id);
  const base = `${API}/incidents/${encodeURIComponent(id)}/reports`;
  const draft = useQuery({
    queryKey: ["incident", id, "reports", "regulator.md", latest.run?.id ?? null],
    queryFn: () => fetchText(`/incidents/${encodeURIComponent(id)}/reports/regulator.md`),
    retry: false,
  });
  return (
    <section aria-labelledby="reports-title" className="reports">
      <h2 id="reports-title">Reports</h2>
      {latest.run === null ? (
        <p className="notice">
          No analysis has succeeded yet, so the reports cannot say who was affected.{" "}
          <Link to={`/incidents/${id}/datasets`}>Go to Datasets</Link>.
        </p>
      ) : null}
      <div className="grid-2">
        <section className="card" aria-labelledby="regulator-report-title">
          <h3 id="regulator-report-title">Regulator report (GDPR Art. 33(3) draft)</h3>
          <p>
            A draft of the notification to the supervisory authority, with the information Art. 33(3) asks for
            (the nature of the breach, the categories and approximate numbers of people and records, the
            likely consequences and the measures taken) filled in from the incident and its latest analysis;
            it is a draft that counsel must review and complete before it is filed.
          </p>
          <div className="actions report-downloads">
            <a className="button primary" href={`${base}/regulator.pdf`} download>
              Download regulator report (PDF)
            </a>
            <a className="button" href={`${base}/regulator.md`} download>
              Download regulator report (Markdown)
            </a>
          </div>
        </section>
        <section className="card" aria-labelledby="incident-report-title">
          <h3 id="incident-report-title">Incident report</h3>
          <p>
            The record of the response for management and auditors: the incident, its clocks and timeline, the
            blast radius, the obligations with their decisions and filings, and the notification campaigns.
          </p>
          <div className="actions report-downloads">
            <a className="button primary" href={`${base}/incident.pdf`} download>
              Download incident report (PDF)
            </a>
            <a className="button" href={`${base}/incident.md`} download>
              Download incident report (Markdown)
            </a>
          </div>
        </section>
      </div>
      <section className="card" aria-labelledby="draft-title">
        <h3 id="draft-title">Regulator report draft (Markdown)</h3>
        <p className="muted">Read the draft here before downloading it; it is shown as plain text.</p>
        <ErrorMessage error={draft.error} />
        {draft.data !== undefined ? (
          <pre className="report-text">{draft.data}</pre>
        ) : draft.error ? null : (
          <Loading what="Loading the draft" />
        )}
      </section>
    </section>
  );
}
