import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api } from "../api/client.ts";
import type { AnalysisRun, Campaign, Incident, Summary } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { useIncident, useIncidentId } from "../incidents/incident-layout.tsx";
import { useVendors } from "../incidents/incidents-page.tsx";
import { useLatestRun } from "../incidents/use-latest-run.ts";
import { ErrorMessage, Field, formatDate, formatNumber, Loading, StatusBadge } from "../layout/ui.tsx";
import { AUDIENCE_HELP, LOCALES, splitList, useActorName, useCampaigns } from "./campaign-common.tsx";

/** The incident's notification campaigns, and a new one made from its latest analysis. */
export function CampaignsPage() {
  const incidentId = useIncidentId();
  const { can } = useSession();
  const campaigns = useCampaigns(incidentId);
  const latest = useLatestRun(incidentId);
  const actorName = useActorName();
  const [creating, setCreating] = useState(false);
  const noRun = latest.run === null;
  return (
    <section>
      <header className="page-header">
        <h2>Campaigns</h2>
        {can("responder") ? (
          <div className="page-actions">
            <button
              type="button"
              className="primary"
              aria-expanded={creating}
              disabled={!latest.run}
              onClick={() => setCreating(!creating)}
            >
              New campaign
            </button>
          </div>
        ) : null}
      </header>
      <p className="muted">
        A campaign tells one audience of the latest analysis what happened to them. It starts as a draft; a
        second person (a responder or admin who did not create it) approves it; then it can be sent.
      </p>
      <ErrorMessage error={latest.error} />
      {noRun ? (
        <p className="notice" role="status">
          No analysis has succeeded yet: campaigns are made from one.{" "}
          <Link to={`/incidents/${incidentId}/datasets`}>Upload and analyse the vendor's datasets</Link>.
        </p>
      ) : null}
      {creating && latest.run ? (
        <NewCampaign
          incidentId={incidentId}
          run={latest.run}
          existing={campaigns.data ?? []}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      <ErrorMessage error={campaigns.error} />
      {!campaigns.data ? (
        <Loading what="Loading the campaigns" />
      ) : campaigns.data.length === 0 ? (
        <p>No campaign yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Audience</th>
                <th scope="col" className="num">
                  Recipients
                </th>
                <th scope="col">Status</th>
                <th scope="col">Approved by</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {campaigns.data.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/incidents/${incidentId}/campaigns/${encodeURIComponent(c.id)}`}>{c.id}</Link>
                  </td>
                  <td>{c.audience}</td>
                  <td className="num">{formatNumber(c.recipients)}</td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td className="wrap-anywhere">{c.approved_by ? actorName(c.approved_by) : "–"}</td>
                  <td>
                    {formatDate(c.created_at)}
                    <br />
                    <span className="muted wrap-anywhere">by {actorName(c.created_by)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const today = () => new Date().toISOString().slice(0, 10);

function suggestId(audience: string, existing: Campaign[]): string {
  const base = `${audience}-${today()}`;
  const taken = new Set(existing.map((c) => c.id));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

const dateOnly = (iso: string | undefined) => (iso ? iso.slice(0, 10) : "");

function NewCampaign({
  incidentId,
  run,
  existing,
  onCancel,
}: {
  incidentId: string;
  run: AnalysisRun;
  existing: Campaign[];
  onCancel: () => void;
}) {
  const incident = useIncident(incidentId);
  const vendors = useVendors();
  const summary = useQuery({
    queryKey: ["incident", incidentId, "summary", run.id],
    queryFn: () => api.get<Summary>(`/incidents/${incidentId}/analyses/${run.id}/summary`),
  });
  const vendorName = vendors.data?.find((v) => v.id === incident.data?.vendor_id)?.name ?? "";
  // the form appears once the incident and vendors are known, so its fields start prefilled
  if (!incident.data || !vendors.data) return <Loading what="Loading the incident" />;
  return (
    <CampaignForm
      incidentId={incidentId}
      incident={incident.data}
      vendorName={vendorName}
      run={run}
      summary={summary.data}
      existing={existing}
      onCancel={onCancel}
    />
  );
}

function CampaignForm({
  incidentId,
  incident,
  vendorName,
  run,
  summary,
  existing,
  onCancel,
}: {
  incidentId: string;
  incident: Incident;
  vendorName: string;
  run: AnalysisRun;
  summary: Summary | undefined;
  existing: Campaign[];
  onCancel: () => void;
}) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const uid = useId();
  const [audience, setAudience] = useState<Campaign["audience"]>("users");
  const [id, setId] = useState(() => suggestId("users", existing));
  const [idEdited, setIdEdited] = useState(false);
  const [countries, setCountries] = useState("");
  const [categories, setCategories] = useState<string[]>([]);
  const [from, setFrom] = useState("");
  const [replyTo, setReplyTo] = useState("");
  const [company, setCompany] = useState("");
  const [vendor, setVendor] = useState(vendorName);
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [discovered, setDiscovered] = useState(dateOnly(incident.clocks.vendor_detected));
  const [contact, setContact] = useState("");
  const [notExposed, setNotExposed] = useState("");
  const [domains, setDomains] = useState("");
  const [locale, setLocale] = useState("en");

  const chooseAudience = (a: Campaign["audience"]) => {
    setAudience(a);
    if (!idEdited) setId(suggestId(a, existing));
  };
  const create = useMutation({
    mutationFn: () => {
      const countryList = splitList(countries).map((c) =>
        c.toLowerCase() === "unknown" ? "unknown" : c.toUpperCase(),
      );
      const filters = {
        ...(countryList.length ? { countries: countryList } : {}),
        ...(categories.length ? { categories } : {}),
      };
      const notice = {
        ...(company.trim() ? { company: company.trim() } : {}),
        ...(vendor.trim() ? { vendor: vendor.trim() } : {}),
        ...(start ? { incident_start: start } : {}),
        ...(end ? { incident_end: end } : {}),
        ...(discovered ? { discovered_at: discovered } : {}),
        ...(contact.trim() ? { contact: contact.trim() } : {}),
        ...(splitList(notExposed).length ? { not_exposed: splitList(notExposed) } : {}),
        ...(splitList(domains).length ? { sender_domains: splitList(domains) } : {}),
        locale_default: locale,
      };
      return api.post<Campaign>(`/incidents/${incidentId}/campaigns`, {
        id: id.trim(),
        run_id: run.id,
        audience,
        ...(Object.keys(filters).length ? { filters } : {}),
        from: from.trim(),
        ...(replyTo.trim() ? { reply_to: replyTo.trim() } : {}),
        notice,
      });
    },
    onSuccess: async (c) => {
      await client.invalidateQueries({ queryKey: ["incident", incidentId, "campaigns"] });
      navigate(`/incidents/${incidentId}/campaigns/${encodeURIComponent(c.id)}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const foundCategories = Object.entries(summary?.by_category ?? {}).sort((a, b) => b[1] - a[1]);
  const foundCountries = Object.entries(summary?.by_country ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12);
  const toggleCategory = (c: string, on: boolean) =>
    setCategories((list) => (on ? [...list, c] : list.filter((x) => x !== c)));

  return (
    <form className="card campaign-form" onSubmit={submit} aria-labelledby={`${uid}-title`}>
      <h3 id={`${uid}-title`}>New campaign</h3>
      <p className="muted">
        From the analysis of {formatDate(run.finished_at ?? run.created_at)}
        {summary
          ? `: ${formatNumber(summary.affected_people)} affected people, ${formatNumber(summary.admins_to_notify)} organisation admins to notify.`
          : "."}
      </p>
      <fieldset>
        <legend>Audience</legend>
        {(["users", "admins"] as const).map((a) => (
          <div className="radio" key={a}>
            <input
              type="radio"
              id={`${uid}-${a}`}
              name={`${uid}-audience`}
              value={a}
              checked={audience === a}
              onChange={() => chooseAudience(a)}
              aria-describedby={`${uid}-${a}-help`}
            />
            <label htmlFor={`${uid}-${a}`}>{a === "users" ? "Users" : "Admins"}</label>
            <span className="muted" id={`${uid}-${a}-help`}>
              – {AUDIENCE_HELP[a]}
              {summary
                ? ` (${formatNumber(a === "users" ? summary.affected_people : summary.admins_to_notify)} at most)`
                : ""}
            </span>
          </div>
        ))}
      </fieldset>
      <div className="form-grid">
        <Field label="Campaign ID" hint="Letters, digits, '.', '_' or '-'; it names the campaign everywhere">
          {(fid) => (
            <input
              id={fid}
              required
              maxLength={64}
              pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}"
              value={id}
              onChange={(e) => {
                setId(e.target.value);
                setIdEdited(true);
              }}
            />
          )}
        </Field>
        <Field label="From address" hint="e.g. Security team <security@example.com>">
          {(fid) => (
            <input
              id={fid}
              required
              maxLength={320}
              autoComplete="off"
              value={from}
              onChange={(e) => setFrom(e.target.value)}
            />
          )}
        </Field>
        <Field label="Reply-to address" hint="Optional: where answers go">
          {(fid) => (
            <input
              id={fid}
              type="email"
              maxLength={320}
              autoComplete="off"
              value={replyTo}
              onChange={(e) => setReplyTo(e.target.value)}
            />
          )}
        </Field>
      </div>
      <fieldset>
        <legend>Filters (optional)</legend>
        <p className="muted">Without filters the campaign reaches the whole audience.</p>
        <Field
          label="Countries"
          hint={`Comma-separated codes, e.g. DE, FR; "unknown" for people without a country.${
            foundCountries.length
              ? ` In this analysis: ${foundCountries.map(([c, n]) => `${c} (${formatNumber(n)})`).join(", ")}`
              : ""
          }`}
        >
          {(fid) => <input id={fid} value={countries} onChange={(e) => setCountries(e.target.value)} />}
        </Field>
        {foundCategories.length ? (
          <fieldset className="checks">
            <legend>Categories</legend>
            <p className="muted">Only recipients for whom one of these (or a sub-category) was exposed.</p>
            {foundCategories.map(([c, n]) => (
              <div className="check" key={c}>
                <input
                  type="checkbox"
                  id={`${uid}-cat-${c}`}
                  checked={categories.includes(c)}
                  onChange={(e) => toggleCategory(c, e.target.checked)}
                />
                <label htmlFor={`${uid}-cat-${c}`}>
                  {c} <span className="muted">({formatNumber(n)})</span>
                </label>
              </div>
            ))}
          </fieldset>
        ) : null}
      </fieldset>
      <fieldset>
        <legend>What the notice says</legend>
        <div className="form-grid">
          <Field label="Company" hint="Who is writing; empty: a neutral wording">
            {(fid) => (
              <input id={fid} maxLength={200} value={company} onChange={(e) => setCompany(e.target.value)} />
            )}
          </Field>
          <Field label="Vendor" hint="The breached vendor; empty: “one of our service providers”">
            {(fid) => (
              <input id={fid} maxLength={200} value={vendor} onChange={(e) => setVendor(e.target.value)} />
            )}
          </Field>
          <Field label="Incident start">
            {(fid) => <input id={fid} type="date" value={start} onChange={(e) => setStart(e.target.value)} />}
          </Field>
          <Field label="Incident end">
            {(fid) => <input id={fid} type="date" value={end} onChange={(e) => setEnd(e.target.value)} />}
          </Field>
          <Field label="Discovered on">
            {(fid) => (
              <input
                id={fid}
                type="date"
                value={discovered}
                onChange={(e) => setDiscovered(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="Contact for questions"
            hint="An email address or an https URL; empty: the From address"
          >
            {(fid) => (
              <input id={fid} maxLength={300} value={contact} onChange={(e) => setContact(e.target.value)} />
            )}
          </Field>
          <Field
            label="Not exposed"
            hint="Comma-separated, e.g. passwords, payment_data; empty: the usual sensitive categories the analysis did not find"
          >
            {(fid) => <input id={fid} value={notExposed} onChange={(e) => setNotExposed(e.target.value)} />}
          </Field>
          <Field label="Sending domains" hint="Comma-separated domains you send from; empty: the From domain">
            {(fid) => <input id={fid} value={domains} onChange={(e) => setDomains(e.target.value)} />}
          </Field>
          <Field label="Default language" hint="For recipients whose language has no template">
            {(fid) => (
              <select id={fid} value={locale} onChange={(e) => setLocale(e.target.value)}>
                {LOCALES.map(([code, name]) => (
                  <option key={code} value={code}>
                    {name} ({code})
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
      </fieldset>
      <ErrorMessage error={create.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create campaign"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
