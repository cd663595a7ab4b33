import { Link } from "react-router-dom";
import type { ObligationNotice } from "../api/types.ts";
import { useIncidentId } from "../incidents/incident-layout.tsx";
import { useLatestRun } from "../incidents/use-latest-run.ts";
import { ErrorMessage, formatDate, Loading } from "../layout/ui.tsx";
import { RegimeCard } from "./obligation-card.tsx";
import { isOpen, useDecisions, useFilings, useObligations } from "./use-obligations.ts";

/**
 * What each law requires of this incident, one card per regime: the decision and why, the deadline,
 * who must be told, the provisions cited; judgment questions answered and notices marked filed here.
 */
export function ObligationsPage() {
  const id = useIncidentId();
  const latest = useLatestRun(id);
  const obligations = useObligations(id, latest.run?.id);
  const decisions = useDecisions(id);
  const filings = useFilings(id);
  const error = latest.error ?? obligations.error;
  if (error) return <ErrorMessage error={error} />;
  if (latest.run === undefined) return <Loading what="Loading the analyses" />;
  if (latest.run === null) {
    const pending = latest.runs?.find((r) => r.status === "queued" || r.status === "running");
    return (
      <section aria-labelledby="obligations-title">
        <h2 id="obligations-title">Obligations</h2>
        <p>
          No analysis has succeeded yet: the obligations follow from who was affected and where.{" "}
          {pending ? `An analysis is ${pending.status}; this page updates when it is done. ` : ""}
          <Link to={`/incidents/${id}/datasets`}>Go to Datasets</Link> to upload the vendor's export and
          analyse it.
        </p>
      </section>
    );
  }
  if (!obligations.data) return <Loading what="Deciding the obligations" />;
  const regimes = groupByRegime(obligations.data);
  const applies = regimes
    .filter((r) => r.notices.some((n) => n.decision !== "not_required"))
    .sort((a, b) => urgency(a) - urgency(b));
  const rest = regimes.filter((r) => r.notices.every((n) => n.decision === "not_required"));
  const count = (d: ObligationNotice["decision"]) => obligations.data.filter((o) => o.decision === d).length;
  const filed = obligations.data.filter((o) => o.filed).length;
  return (
    <section aria-labelledby="obligations-title" className="obligations">
      <h2 id="obligations-title">Obligations</h2>
      <p className="notice">
        This supports legal advice; it does not replace it. Every decision names the facts it rests on and
        cites the provisions: have counsel confirm it before notices go out.
      </p>
      <p className="muted">
        From the analysis of {formatDate(latest.run.finished_at ?? latest.run.created_at)}, with the
        incident's clocks and answers as they are now: {count("required")} required, {count("judgment")}{" "}
        needing judgment, {filed} filed.
      </p>
      <ErrorMessage error={decisions.error ?? filings.error} />
      {applies.length === 0 ? <p>No regime requires a notice.</p> : null}
      {applies.map((r) => (
        <RegimeCard
          key={r.regime}
          incidentId={id}
          name={r.name}
          notices={r.notices}
          decisions={decisions.data ?? []}
          filings={filings.data ?? []}
        />
      ))}
      {rest.length > 0 ? (
        <details className="card not-required-list">
          <summary>
            {rest.length} {rest.length === 1 ? "regime requires" : "regimes require"} no notice:{" "}
            {rest.map((r) => r.name).join("; ")}
          </summary>
          {rest.map((r) => (
            <RegimeCard
              key={r.regime}
              incidentId={id}
              name={r.name}
              notices={r.notices}
              decisions={decisions.data ?? []}
              filings={filings.data ?? []}
            />
          ))}
        </details>
      ) : null}
    </section>
  );
}

type Regime = { regime: string; name: string; notices: ObligationNotice[] };

/**
 * Most urgent first: the soonest open deadline; then open notices without a fixed date; then regimes
 * whose notices are all filed. Equal ones keep the engine's order (the sort is stable).
 */
function urgency(r: Regime): number {
  const open = r.notices.filter(isOpen);
  const dated = open.filter((n) => n.deadline).map((n) => new Date(n.deadline as string).getTime());
  if (dated.length > 0) return Math.min(...dated);
  return open.length > 0 ? Number.MAX_SAFE_INTEGER - 1 : Number.MAX_SAFE_INTEGER;
}

function groupByRegime(obligations: readonly ObligationNotice[]): Regime[] {
  const out: Regime[] = [];
  for (const o of obligations) {
    let r = out.find((x) => x.regime === o.regime);
    if (!r) {
      r = { regime: o.regime, name: o.regime_name, notices: [] };
      out.push(r);
    }
    r.notices.push(o);
  }
  return out;
}
