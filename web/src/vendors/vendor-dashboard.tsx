import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../api/client.ts";
import type { RiskTier, Severity, TierCounts, VendorDashboard } from "../api/types.ts";
import { ErrorMessage, formatNumber, Loading } from "../layout/ui.tsx";
import { TierBadge } from "./vendor-common.tsx";

const TIERS_HIGH_FIRST: readonly (RiskTier | "unrated")[] = ["critical", "high", "medium", "low", "unrated"];
const SEVERITIES_HIGH_FIRST: readonly Severity[] = ["critical", "high", "medium", "low"];
const FIRST_FINDINGS = 5;

export function useVendorDashboard() {
  return useQuery({
    queryKey: ["vendors", "dashboard"],
    queryFn: () => api.get<VendorDashboard>("/vendors/dashboard"),
  });
}

const ownerLabel = (o: { email: string; display_name: string | null } | null) =>
  o ? (o.display_name ?? o.email) : "no owner";

/** The ecosystem at a glance: tiers by review state, overdue reviews, open findings, offboardings. */
export function VendorDashboardPanel() {
  const dashboard = useVendorDashboard();
  if (dashboard.error) return <ErrorMessage error={dashboard.error} />;
  if (!dashboard.data) return <Loading what="Loading the vendor dashboard" />;
  const d = dashboard.data;
  const kept = TIERS_HIGH_FIRST.reduce((n, t) => n + d.by_tier[t].total, 0);
  return (
    <section className="vendor-dashboard" aria-labelledby="vendor-dashboard-title">
      <h2 id="vendor-dashboard-title" className="visually-hidden">
        Dashboard
      </h2>
      <div className="stats vendor-stats">
        <Stat label="vendors active or under review" value={kept} testId="dash-kept" />
        <Stat
          label="overdue reviews"
          value={d.overdue_reviews.length}
          alarm={d.overdue_reviews.length > 0}
          testId="dash-overdue-reviews"
        />
        <Stat label="open findings" value={d.open_findings.total} testId="dash-open-findings" />
        <Stat
          label="findings past due"
          value={d.open_findings.overdue}
          alarm={d.open_findings.overdue > 0}
          testId="dash-overdue-findings"
        />
        <Stat label="offboardings under way" value={d.offboarding.length} testId="dash-offboarding" />
      </div>
      <div className="vendor-dashboard-grid">
        <div className="card vendor-dash-card">
          <h3>By risk tier and review</h3>
          <div className="table-wrap">
            <table aria-label="Vendors by risk tier and review">
              <thead>
                <tr>
                  <th scope="col">Tier</th>
                  <th scope="col" className="num">
                    Total
                  </th>
                  <th scope="col" className="num">
                    Reviewed
                  </th>
                  <th scope="col" className="num">
                    Due soon
                  </th>
                  <th scope="col" className="num">
                    Overdue
                  </th>
                  <th scope="col" className="num">
                    Never reviewed
                  </th>
                </tr>
              </thead>
              <tbody>
                {TIERS_HIGH_FIRST.map((t) => (
                  <TierRow key={t} tier={t} counts={d.by_tier[t]} />
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted vendor-small">
            Due soon: within {d.due_soon_days} days. A vendor never reviewed can also be overdue.
          </p>
        </div>
        <div className="card vendor-dash-card">
          <h3>Overdue reviews</h3>
          {d.overdue_reviews.length === 0 ? (
            <p className="muted">No review is overdue.</p>
          ) : (
            <ul className="vendor-dash-list">
              {d.overdue_reviews.map((r) => (
                <li key={r.vendor_id}>
                  <Link to={`/vendors/${r.vendor_id}`}>{r.name}</Link>{" "}
                  <span className="vendor-overdue">due {r.next_review_at}</span>
                  <br />
                  <span className="muted vendor-small">
                    {r.risk_tier ?? "not rated"} · {ownerLabel(r.owner)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="card vendor-dash-card">
          <h3>Open findings</h3>
          <p className="vendor-severities">
            {SEVERITIES_HIGH_FIRST.map((s) => (
              <span key={s} className={`badge risk-${s}`}>
                {s}: {d.open_findings.by_severity[s]}
              </span>
            ))}
          </p>
          {d.open_findings.items.length === 0 ? (
            <p className="muted">No open finding.</p>
          ) : (
            <ul className="vendor-dash-list">
              {d.open_findings.items.slice(0, FIRST_FINDINGS).map((f) => (
                <li key={f.id}>
                  <Link to={`/vendors/${f.vendor_id}#findings`}>{f.vendor_name}</Link>: {f.title}
                  <br />
                  <span className="muted vendor-small">
                    {f.severity} · {f.due_at ? `due ${f.due_at}` : "no due date"}
                    {f.overdue ? <span className="vendor-overdue"> (overdue)</span> : null} ·{" "}
                    {ownerLabel(f.owner)}
                  </span>
                </li>
              ))}
            </ul>
          )}
          {d.open_findings.total > FIRST_FINDINGS ? (
            <p className="muted vendor-small">
              The first {FIRST_FINDINGS} of {formatNumber(d.open_findings.total)}, by due date.
            </p>
          ) : null}
        </div>
        <div className="card vendor-dash-card">
          <h3>Offboarding</h3>
          {d.offboarding.length === 0 ? (
            <p className="muted">No vendor is being offboarded.</p>
          ) : (
            <ul className="vendor-dash-list">
              {d.offboarding.map((o) => (
                <li key={o.vendor_id}>
                  <Link to={`/vendors/${o.vendor_id}#offboarding`}>{o.name}</Link>{" "}
                  <span className="muted">
                    {o.done_steps} of {o.total_steps} steps done
                  </span>
                  <progress
                    className="vendor-steps"
                    max={o.total_steps}
                    value={o.done_steps}
                    aria-label={`${o.name}: offboarding steps done`}
                  />
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </section>
  );
}

function Stat({
  label,
  value,
  alarm = false,
  testId,
}: {
  label: string;
  value: number;
  alarm?: boolean;
  testId: string;
}) {
  return (
    <div className={`stat ${alarm ? "vendor-alarm" : ""}`} data-testid={testId}>
      <div className="stat-value">{formatNumber(value)}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

function TierRow({ tier, counts }: { tier: RiskTier | "unrated"; counts: TierCounts }) {
  return (
    <tr>
      <th scope="row">
        <TierBadge tier={tier === "unrated" ? null : tier} />
      </th>
      <td className="num">{formatNumber(counts.total)}</td>
      <td className="num">{formatNumber(counts.reviewed)}</td>
      <td className="num">{formatNumber(counts.due_soon)}</td>
      <td className={`num ${counts.overdue > 0 ? "vendor-overdue" : ""}`}>{formatNumber(counts.overdue)}</td>
      <td className="num">{formatNumber(counts.never_reviewed)}</td>
    </tr>
  );
}
