import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client.ts";
import { INCIDENT_STATUSES, type Incident, type Summary } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import {
  Card,
  Countdown,
  ErrorMessage,
  Field,
  formatDate,
  formatNumber,
  Loading,
  Stat,
  StatusBadge,
} from "../layout/ui.tsx";
import {
  audienceLabel,
  DECISION_LABELS,
  isOpen,
  openDeadlines,
  useObligations,
} from "../obligations/use-obligations.ts";
import { ClocksCard, clockLabel, useIncidentChanged } from "./clocks.tsx";
import { useIncident, useIncidentId } from "./incident-layout.tsx";
import { useVendors } from "./incidents-page.tsx";
import { TimelineCard } from "./timeline.tsx";
import { useLatestRun } from "./use-latest-run.ts";

/** The incident at a glance: what it is, how far it reached, what is due when, and what happened. */
export function IncidentOverviewPage() {
  const id = useIncidentId();
  const incident = useIncident(id);
  const latest = useLatestRun(id);
  if (incident.error) return <ErrorMessage error={incident.error} />;
  if (!incident.data) return <Loading what="Loading the incident" />;
  return (
    <div className="overview">
      <BlastRadiusHeadline incidentId={id} latest={latest} />
      <div className="grid-2">
        <DetailsCard incident={incident.data} />
        <DeadlinesCard incident={incident.data} latest={latest} />
      </div>
      <ClocksCard incident={incident.data} />
      <TimelineCard incidentId={id} />
    </div>
  );
}

type Latest = ReturnType<typeof useLatestRun>;

function BlastRadiusHeadline({ incidentId, latest }: { incidentId: string; latest: Latest }) {
  const runId = latest.run?.id;
  const summary = useQuery({
    queryKey: ["incident", incidentId, "summary", runId],
    queryFn: () => api.get<Summary>(`/incidents/${incidentId}/analyses/${runId}/summary`),
    enabled: !!runId,
  });
  const pending = latest.runs?.find((r) => r.status === "queued" || r.status === "running");
  return (
    <Card title="Blast radius" className="headline">
      <ErrorMessage error={latest.error ?? summary.error} />
      {latest.run === undefined ? (
        latest.error ? null : (
          <Loading what="Loading the analyses" />
        )
      ) : latest.run === null ? (
        <p>
          No analysis has succeeded yet. {pending ? `An analysis is ${pending.status}. ` : ""}
          <Link to={`/incidents/${incidentId}/datasets`}>Upload and analyse the vendor's datasets</Link>.
        </p>
      ) : !summary.data ? (
        summary.error ? null : (
          <Loading what="Loading the summary" />
        )
      ) : (
        <>
          <div className="stats">
            <Stat label="affected people" value={formatNumber(summary.data.affected_people)} />
            <Stat label="affected organisations" value={formatNumber(summary.data.affected_orgs)} />
            <Stat label="organisation admins to notify" value={formatNumber(summary.data.admins_to_notify)} />
          </div>
          <p className="muted">
            From the analysis of {formatDate(latest.run.finished_at ?? latest.run.created_at)}
            {pending ? `; a newer analysis is ${pending.status}` : ""}.{" "}
            <Link to={`/incidents/${incidentId}/blast-radius`}>See the blast radius</Link>
          </p>
        </>
      )}
    </Card>
  );
}

function DetailsCard({ incident }: { incident: Incident }) {
  const { can } = useSession();
  const vendors = useVendors();
  const vendor = incident.vendor_id ? vendors.data?.find((v) => v.id === incident.vendor_id) : null;
  return (
    <Card title="Incident" className="details">
      {can("responder") ? <StatusForm incident={incident} /> : null}
      <dl className="facts">
        {can("responder") ? null : (
          <>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={incident.status} />
            </dd>
          </>
        )}
        <dt>Vendor</dt>
        <dd>{incident.vendor_id ? (vendor?.name ?? (vendors.data ? "(unknown vendor)" : "…")) : "–"}</dd>
        <dt>Controller country</dt>
        <dd>{incident.controller_country ?? <span className="muted">not given</span>}</dd>
        <dt>Opened</dt>
        <dd>{formatDate(incident.created_at)}</dd>
        {incident.closed_at ? (
          <>
            <dt>Closed</dt>
            <dd>{formatDate(incident.closed_at)}</dd>
          </>
        ) : null}
        <dt>Retention</dt>
        <dd>
          {incident.retention_days} days after closing
          {incident.purged_at ? `; personal data purged ${formatDate(incident.purged_at)}` : ""}
        </dd>
      </dl>
      <h3>Description</h3>
      {incident.description ? (
        <p className="description">{incident.description}</p>
      ) : (
        <p className="muted">No description.</p>
      )}
    </Card>
  );
}

function StatusForm({ incident }: { incident: Incident }) {
  const changed = useIncidentChanged(incident.id);
  const [status, setStatus] = useState(incident.status);
  const save = useMutation({
    mutationFn: () => api.patch<Incident>(`/incidents/${incident.id}`, { status }),
    onSuccess: (updated) => changed(updated),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="status-form" onSubmit={submit}>
      <Field label="Status">
        {(id) => (
          <select id={id} value={status} onChange={(e) => setStatus(e.target.value as Incident["status"])}>
            {INCIDENT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit" disabled={save.isPending || status === incident.status}>
        Save status
      </button>
      {status === "closed" && incident.status !== "closed" ? (
        <p className="muted span-all">
          Closing starts the retention period: the personal data is purged {incident.retention_days} days
          after.
        </p>
      ) : null}
      <ErrorMessage error={save.error} />
    </form>
  );
}

function DeadlinesCard({ incident, latest }: { incident: Incident; latest: Latest }) {
  const obligations = useObligations(incident.id, latest.run?.id);
  const base = `/incidents/${incident.id}`;
  let body: React.ReactNode;
  if (latest.run === undefined || (latest.run && !obligations.data)) {
    body = latest.error || obligations.error ? null : <Loading what="Loading the deadlines" />;
  } else if (latest.run === null || !obligations.data) {
    body = (
      <p>
        Deadlines come from the obligations of an analysis, and none has succeeded yet.{" "}
        <Link to={`${base}/datasets`}>Go to Datasets</Link>.
      </p>
    );
  } else {
    const all = obligations.data;
    const due = openDeadlines(all);
    const open = all.filter(isOpen);
    const undated = open.filter((o) => !o.deadline);
    const filed = all.filter((o) => o.filed).length;
    body = (
      <>
        {!incident.clocks.aware ? (
          <p className="notice">
            The Aware clock is not set: most deadlines count from it. Set it under Clocks below.
          </p>
        ) : null}
        {due.length === 0 ? (
          <p>No open notice has a fixed deadline.</p>
        ) : (
          <ul className="deadlines">
            {due.map((o) => (
              <li key={`${o.regime}:${o.audience}`}>
                <div className="deadline-what">
                  <strong>{o.regime_name}</strong>: notice to {audienceLabel(o.audience)}{" "}
                  <span className={`badge badge-decision-${o.decision}`}>{DECISION_LABELS[o.decision]}</span>
                </div>
                <div className="deadline-when">
                  <Countdown to={o.deadline as string} />{" "}
                  <span className="muted">
                    due <time dateTime={o.deadline as string}>{formatDate(o.deadline)}</time>, from the{" "}
                    {clockLabel(o.clock)} clock
                  </span>
                </div>
              </li>
            ))}
          </ul>
        )}
        <p className="muted">
          {undated.length > 0
            ? `${undated.length} more open ${undated.length === 1 ? "notice has" : "notices have"} no fixed deadline (the law says "as soon as feasible", or its clock is not set). `
            : ""}
          {filed > 0 ? `${filed} ${filed === 1 ? "notice" : "notices"} filed. ` : ""}
          <Link to={`${base}/obligations`}>See all obligations</Link>
        </p>
      </>
    );
  }
  return (
    <Card title="Deadlines" className="deadlines-card">
      <ErrorMessage error={latest.error ?? obligations.error} />
      {body}
    </Card>
  );
}
