import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/client.ts";
import type { Vendor } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { ErrorMessage, Loading, StatusBadge } from "../layout/ui.tsx";
import { ScanList } from "./attach-scan.tsx";
import { TierBadge, useVendor } from "./vendor-common.tsx";
import { VendorFindings } from "./vendor-findings.tsx";
import { VendorFlows } from "./vendor-flows.tsx";
import { VendorOffboarding } from "./vendor-offboarding.tsx";
import { VendorProfile } from "./vendor-profile.tsx";
import { VendorReview } from "./vendor-review.tsx";
import "./vendors.css";

const SECTIONS = [
  ["profile", "Profile"],
  ["flows", "Data flows"],
  ["scans", "Scans"],
  ["review", "Review"],
  ["findings", "Findings"],
  ["offboarding", "Offboarding"],
] as const;

/** One vendor: its record, what it receives, the scans that met it, its review and its offboarding. */
export function VendorPage() {
  const { vendorId = "" } = useParams();
  const vendor = useVendor(vendorId);
  const location = useLocation();
  const loaded = vendor.data !== undefined;
  // Links such as /vendors/:id#findings land on the section once the page is there.
  useEffect(() => {
    if (!loaded || !location.hash) return;
    document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
  }, [loaded, location.hash]);
  if (vendor.error) {
    return (
      <section>
        <p>
          <Link to="/vendors">All vendors</Link>
        </p>
        <ErrorMessage error={vendor.error} />
      </section>
    );
  }
  if (!vendor.data) return <Loading what="Loading the vendor" />;
  const v = vendor.data;
  return (
    <article key={v.id} className="vendor-page">
      <p className="vendor-back">
        <Link to="/vendors">All vendors</Link>
      </p>
      <header className="vendor-title">
        <h1>{v.name}</h1>
        <TierBadge tier={v.risk_tier} />
        <StatusBadge status={v.status} />
      </header>
      {v.risk_reason ? (
        <p className="vendor-reason muted" data-testid="vendor-risk-reason">
          {v.risk_reason}
        </p>
      ) : null}
      <nav className="vendor-section-nav" aria-label="Sections">
        {SECTIONS.map(([id, label]) => (
          <a key={id} href={`#${id}`}>
            {label}
          </a>
        ))}
      </nav>
      <VendorProfile vendor={v} />
      <VendorFlows vendor={v} />
      <section id="scans" className="card vendor-section" aria-labelledby="scans-title">
        <h2 id="scans-title">Scans</h2>
        <p className="muted">
          Attached scanner runs, and whether each met this vendor (attach them on the Vendors page).
        </p>
        <ScanList vendorId={v.id} />
      </section>
      <div id="review" className="vendor-anchor">
        <VendorReview vendor={v} />
      </div>
      <div id="findings" className="vendor-anchor">
        <VendorFindings vendor={v} />
      </div>
      <div id="offboarding" className="vendor-anchor">
        <VendorOffboarding vendor={v} />
      </div>
      <DeleteVendor vendor={v} />
    </article>
  );
}

/** Removal is for mistakes: a vendor with incidents stays (the API answers 409) and is offboarded instead. */
function DeleteVendor({ vendor }: { vendor: Vendor }) {
  const { can } = useSession();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => api.delete(`/vendors/${vendor.id}`),
    onSuccess: async () => {
      client.removeQueries({ queryKey: ["vendors", vendor.id] });
      await client.invalidateQueries({ queryKey: ["vendors"] });
      navigate("/vendors", { state: { notice: `Vendor ${vendor.name} deleted.` } });
    },
  });
  if (!can("responder")) return null;
  return (
    <section className="card vendor-section vendor-danger" aria-labelledby="delete-vendor-title">
      <h2 id="delete-vendor-title">Delete vendor</h2>
      <p className="muted">
        For a vendor added by mistake. A vendor that has incidents cannot be deleted: offboard it instead.
      </p>
      {confirming ? (
        <div role="alertdialog" aria-labelledby="delete-vendor-confirm" className="vendor-confirm">
          <p id="delete-vendor-confirm">
            Delete {vendor.name} for good, with its flows, findings and questionnaires?
          </p>
          <div className="actions">
            <button
              type="button"
              className="danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate()}
            >
              Yes, delete {vendor.name}
            </button>
            <button
              type="button"
              onClick={() => {
                setConfirming(false);
                remove.reset();
              }}
            >
              Keep it
            </button>
          </div>
        </div>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete vendor
        </button>
      )}
      <ErrorMessage error={remove.error} />
    </section>
  );
}
