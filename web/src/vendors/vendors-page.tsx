import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useMemo, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { api } from "../api/client.ts";
import type { BulkAssignResult, RequirementSet, RiskTier, Vendor, VendorAccess } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { useVendors } from "../incidents/incidents-page.tsx";
import {
  ErrorMessage,
  Field,
  formatNumber,
  Loading,
  Notice,
  PageHeader,
  StatusBadge,
} from "../layout/ui.tsx";
import { AttachScan, ScanList } from "./attach-scan.tsx";
import { ExportLinks, ImportVendors } from "./import-export.tsx";
import {
  AccessAndPeopleFields,
  ASSIGNABLE_STATUSES,
  isPastDay,
  RISK_TIERS,
  statusLabel,
  TierBadge,
  tierRank,
  useRequirementSets,
  VENDOR_STATUSES,
} from "./vendor-common.tsx";
import { VendorDashboardPanel } from "./vendor-dashboard.tsx";
import "./vendors.css";

type Panel = "add" | "assign" | "import" | "scan";
const PANELS: [Panel, string][] = [
  ["add", "Add vendor"],
  ["assign", "Assign a requirement set"],
  ["import", "Import vendors"],
  ["scan", "Attach a scan"],
];

/** The vendor inventory: the review dashboard, every vendor with its tier, and the inventory's tools. */
export function VendorsPage() {
  const { can } = useSession();
  const vendors = useVendors();
  const location = useLocation();
  const [panel, setPanel] = useState<Panel | null>(null);
  const arrived = (location.state as { notice?: string } | null)?.notice ?? null;
  const canEdit = can("responder");
  return (
    <section className="vendors-page">
      <PageHeader title="Vendors">
        <ExportLinks />
      </PageHeader>
      <p className="muted">
        The companies that process your data, what each receives and on which terms, and how their reviews
        stand. When one reports a breach, open an incident for it.
      </p>
      {arrived ? <Notice>{arrived}</Notice> : null}
      <VendorDashboardPanel />

      <div className="vendor-section-head vendor-inventory-head">
        <h2>Inventory</h2>
        {canEdit ? (
          <div className="actions">
            {PANELS.map(([id, label]) => (
              <button
                key={id}
                type="button"
                className={id === "add" ? "primary" : ""}
                aria-expanded={panel === id}
                onClick={() => setPanel(panel === id ? null : id)}
              >
                {label}
              </button>
            ))}
          </div>
        ) : null}
      </div>
      {panel === "add" ? <AddVendor onClose={() => setPanel(null)} /> : null}
      {panel === "assign" ? (
        <AssignRequirements vendors={vendors.data ?? []} onClose={() => setPanel(null)} />
      ) : null}
      {panel === "import" ? <ImportVendors onClose={() => setPanel(null)} /> : null}
      {panel === "scan" ? <AttachScan onClose={() => setPanel(null)} /> : null}

      <ErrorMessage error={vendors.error} />
      {!vendors.data ? <Loading what="Loading the vendors" /> : <VendorTable vendors={vendors.data} />}

      <section className="card vendor-section" aria-labelledby="scans-title">
        <h2 id="scans-title">Attached scans</h2>
        <ScanList />
      </section>
    </section>
  );
}

const matches = (v: Vendor, text: string) => {
  if (!text) return true;
  const needle = text.toLowerCase();
  return [v.name, v.description, v.catalogue_id, v.owner_email, v.owner_name, v.requirement_set, ...v.domains]
    .filter((s): s is string => !!s)
    .some((s) => s.toLowerCase().includes(needle));
};

function VendorTable({ vendors }: { vendors: Vendor[] }) {
  const [tier, setTier] = useState("");
  const [status, setStatus] = useState("");
  const [text, setText] = useState("");
  const shown = vendors.filter(
    (v) =>
      (tier === "" || (tier === "unrated" ? v.risk_tier === null : v.risk_tier === tier)) &&
      (status === "" || v.status === status) &&
      matches(v, text.trim()),
  );
  if (vendors.length === 0) return <p>No vendor yet: add one, or import your vendors file.</p>;
  return (
    <>
      <div className="vendor-filters">
        <Field label="Search">
          {(id) => (
            <input
              id={id}
              type="search"
              placeholder="name, domain, owner…"
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          )}
        </Field>
        <Field label="Risk tier">
          {(id) => (
            <select id={id} value={tier} onChange={(e) => setTier(e.target.value)}>
              <option value="">all tiers</option>
              {[...RISK_TIERS].reverse().map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
              <option value="unrated">not rated</option>
            </select>
          )}
        </Field>
        <Field label="Status">
          {(id) => (
            <select id={id} value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">all statuses</option>
              {VENDOR_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {statusLabel(s)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <p className="muted vendor-small" role="status">
        {shown.length === vendors.length
          ? `${formatNumber(vendors.length)} vendors`
          : `${formatNumber(shown.length)} of ${formatNumber(vendors.length)} vendors`}
      </p>
      {shown.length === 0 ? (
        <p>No vendor matches.</p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Vendors" className="vendor-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Risk tier</th>
                <th scope="col">Status</th>
                <th scope="col">Requirement set</th>
                <th scope="col">Next review</th>
                <th scope="col">Owner</th>
                <th scope="col">Access</th>
                <th scope="col" className="num">
                  People
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((v) => (
                <VendorRow key={v.id} vendor={v} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function VendorRow({ vendor: v }: { vendor: Vendor }) {
  const undeclared = v.flows.filter((f) => f.state === "undeclared").length;
  const overdue = isPastDay(v.next_review_at) && (v.status === "active" || v.status === "under_review");
  return (
    <tr>
      <th scope="row" className="vendor-name">
        <Link to={`/vendors/${v.id}`}>{v.name}</Link>
        {v.description ? <span className="muted vendor-small vendor-block">{v.description}</span> : null}
        {undeclared > 0 ? (
          <span className="badge vendor-state-undeclared">
            {undeclared} undeclared flow{undeclared === 1 ? "" : "s"}
          </span>
        ) : null}
      </th>
      <td className="vendor-tier">
        <TierBadge tier={v.risk_tier} />
        {v.risk_reason ? <span className="vendor-reason">{v.risk_reason}</span> : null}
      </td>
      <td>
        <StatusBadge status={v.status} />
      </td>
      <td>{v.requirement_set ?? "–"}</td>
      <td className={overdue ? "vendor-overdue nowrap" : "nowrap"}>
        {v.next_review_at ?? "–"}
        {overdue ? <span className="vendor-block">overdue</span> : null}
      </td>
      <td className="wrap-anywhere">{v.owner_name ?? v.owner_email ?? "–"}</td>
      <td>{v.access ?? "–"}</td>
      <td className="num">{formatNumber(v.people_count)}</td>
    </tr>
  );
}

/** Name and a few fields; the rest of the record is on the vendor's page, which opens next. */
function AddVendor({ onClose }: { onClose: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [website, setWebsite] = useState("");
  const [access, setAccess] = useState("");
  const [people, setPeople] = useState("");
  const add = useMutation({
    mutationFn: () =>
      api.post<Vendor>("/vendors", {
        name: name.trim(),
        description: description.trim() || null,
        website: website.trim() || null,
        access: (access || null) as VendorAccess | null,
        people_count: people.trim() === "" ? null : Number(people),
      }),
    onSuccess: async (v) => {
      await client.invalidateQueries({ queryKey: ["vendors"] });
      navigate(`/vendors/${v.id}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <form className="card vendor-panel" onSubmit={submit} aria-label="Add vendor">
      <h2>Add vendor</h2>
      <div className="form-grid">
        <Field label="Name">
          {(id) => (
            <input id={id} required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        <Field label="Website" hint="e.g. https://vendor.example">
          {(id) => (
            <input
              id={id}
              inputMode="url"
              maxLength={500}
              value={website}
              onChange={(e) => setWebsite(e.target.value)}
            />
          )}
        </Field>
        <AccessAndPeopleFields access={access} onAccess={setAccess} people={people} onPeople={setPeople} />
      </div>
      <Field label="What it does">
        {(id) => (
          <textarea
            id={id}
            rows={2}
            maxLength={10_000}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        )}
      </Field>
      <ErrorMessage error={add.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={add.isPending}>
          Add and open
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Every vendor kept (active or under review) at or above a tier, held to one set in one step. */
function AssignRequirements({ vendors, onClose }: { vendors: Vendor[]; onClose: () => void }) {
  const sets = useRequirementSets();
  const client = useQueryClient();
  const [set, setSet] = useState("");
  const [minTier, setMinTier] = useState<RiskTier>("high");
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<(BulkAssignResult & { set: string }) | null>(null);
  const chosen = set || sets.data?.[0]?.name || "";
  const targets = useMemo(
    () =>
      vendors.filter(
        (v) => tierRank(v.risk_tier) >= tierRank(minTier) && ASSIGNABLE_STATUSES.includes(v.status),
      ),
    [vendors, minTier],
  );
  const already = targets.filter((v) => v.requirement_set === chosen).length;
  const assign = useMutation({
    mutationFn: () =>
      api.post<BulkAssignResult>("/vendors/assign-requirements", { set: chosen, min_tier: minTier }),
    onSuccess: async (r) => {
      setConfirming(false);
      setResult({ ...r, set: chosen });
      await client.invalidateQueries({ queryKey: ["vendors"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setResult(null);
    assign.reset();
    setConfirming(true);
  };
  const title = (name: string) => sets.data?.find((s: RequirementSet) => s.name === name)?.title ?? name;
  return (
    <form className="card vendor-panel" onSubmit={submit} aria-labelledby="assign-title">
      <h2 id="assign-title">Assign a requirement set by tier</h2>
      <p className="muted">
        Holds every active or under-review vendor at or above a risk tier to a requirement set, in one step.
        Vendors without a tier, and those being offboarded, are left alone.
      </p>
      <ErrorMessage error={sets.error} />
      <div className="form-grid">
        <Field label="Requirement set">
          {(id) => (
            <select
              id={id}
              value={chosen}
              disabled={!sets.data || confirming}
              onChange={(e) => {
                setSet(e.target.value);
                setResult(null);
              }}
            >
              {sets.data?.map((s) => (
                <option key={s.name} value={s.name}>
                  {s.title} ({s.name})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="At or above tier">
          {(id) => (
            <select
              id={id}
              value={minTier}
              disabled={confirming}
              onChange={(e) => {
                setMinTier(e.target.value as RiskTier);
                setResult(null);
              }}
            >
              {[...RISK_TIERS].reverse().map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {confirming ? (
        <div role="alertdialog" aria-labelledby="assign-confirm" className="vendor-confirm">
          <p id="assign-confirm">
            {targets.length === 0
              ? `No active or under-review vendor is at or above ${minTier}.`
              : `${targets.length} vendor${targets.length === 1 ? "" : "s"} at or above ${minTier} will be held to ${title(chosen)}${already ? ` (${already} already ${already === 1 ? "is" : "are"})` : ""}: ${targets.map((v) => v.name).join(", ")}.`}
          </p>
          <ErrorMessage error={assign.error} />
          <div className="actions">
            <button
              type="button"
              className="primary"
              disabled={assign.isPending || targets.length === 0}
              onClick={() => assign.mutate()}
            >
              Yes, assign to {targets.length} vendor{targets.length === 1 ? "" : "s"}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Back
            </button>
          </div>
        </div>
      ) : (
        <div className="actions">
          <button type="submit" className="primary" disabled={!chosen}>
            Assign…
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      )}
      {result ? (
        <Notice>
          Assigned {result.assigned} vendor{result.assigned === 1 ? "" : "s"} to {title(result.set)}
          {result.unchanged ? `; ${result.unchanged} had it already` : ""}.
        </Notice>
      ) : null}
    </form>
  );
}
