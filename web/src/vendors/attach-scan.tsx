import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link } from "react-router-dom";
import { api } from "../api/client.ts";
import type { VendorScan, VendorScanAttached } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { useVendors } from "../incidents/incidents-page.tsx";
import { ErrorMessage, Field, formatDate, formatNumber, Loading, Notice } from "../layout/ui.tsx";
import { useUsers } from "../users/users-page.tsx";

/**
 * Scanner results (blastradius scan --out DIR) attached to the inventory: summary.json, and
 * findings.json's list when given (its hosts help match vendors). The server keeps the summary
 * only, marks declared flows seen and adds the flows nobody declared.
 */

async function readJson(file: File): Promise<unknown> {
  let text: string;
  try {
    text = await file.text();
  } catch (error) {
    throw new Error(`${file.name}: cannot be read (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file.name}: not valid JSON (${(error as Error).message})`);
  }
}

export function AttachScan({ onClose }: { onClose: () => void }) {
  const client = useQueryClient();
  const [summary, setSummary] = useState<File | null>(null);
  const [findings, setFindings] = useState<File | null>(null);
  const [attached, setAttached] = useState<VendorScanAttached | null>(null);
  const attach = useMutation({
    mutationFn: async () => {
      if (!summary) throw new Error("Choose the scan's summary.json");
      const body = await readJson(summary);
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw new Error(`${summary.name}: expected the scanner's summary (a JSON object)`);
      }
      const list = findings ? await readJson(findings) : undefined;
      if (list !== undefined && !Array.isArray(list)) {
        throw new Error(`${findings?.name}: expected the scanner's findings (a JSON list)`);
      }
      return api.post<VendorScanAttached>("/vendors/scans", {
        ...(body as Record<string, unknown>),
        ...(list ? { findings: list } : {}),
      });
    },
    onSuccess: async (result) => {
      setAttached(result);
      await client.invalidateQueries({ queryKey: ["vendors"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setAttached(null);
    attach.mutate();
  };
  return (
    <form className="card vendor-panel" onSubmit={submit} aria-labelledby="attach-scan-title">
      <h2 id="attach-scan-title">Attach a scan</h2>
      <p className="muted">
        The files a <code>blastradius scan --out DIR</code> run wrote. Only the summary is kept (start
        addresses, when, the flows and third-party hosts it saw), never the pages or requests.
      </p>
      <div className="form-grid">
        <Field label="Scan summary (summary.json)">
          {(id) => (
            <input
              id={id}
              type="file"
              accept=".json,application/json"
              required
              onChange={(e) => setSummary(e.target.files?.[0] ?? null)}
            />
          )}
        </Field>
        <Field label="Scan findings (findings.json, optional)">
          {(id) => (
            <input
              id={id}
              type="file"
              accept=".json,application/json"
              onChange={(e) => setFindings(e.target.files?.[0] ?? null)}
            />
          )}
        </Field>
      </div>
      <ErrorMessage error={attach.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={!summary || attach.isPending}>
          Attach scan
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {attached ? <AttachOutcome result={attached} /> : null}
    </form>
  );
}

function AttachOutcome({ result }: { result: VendorScanAttached }) {
  // The list is refreshed after the attach: the flows this scan added are the undeclared ones it last saw.
  const vendors = useVendors();
  const undeclared = (id: string) =>
    vendors.data
      ?.find((v) => v.id === id)
      ?.flows.filter((f) => f.state === "undeclared" && f.last_seen_scan_id === result.scan.id) ?? [];
  return (
    <div className="vendor-outcome" data-testid="attach-outcome">
      <Notice>
        Scan of {formatDate(result.scan.scanned_at)} attached: it met {result.vendors.length} inventory vendor
        {result.vendors.length === 1 ? "" : "s"} and {result.unknown_vendors.length} vendor
        {result.unknown_vendors.length === 1 ? "" : "s"} not in the inventory.
      </Notice>
      {result.vendors.length > 0 ? (
        <div className="table-wrap">
          <table aria-label="Vendors the scan met">
            <thead>
              <tr>
                <th scope="col">Vendor</th>
                <th scope="col" className="num">
                  Declared flows seen
                </th>
                <th scope="col">Undeclared flows</th>
              </tr>
            </thead>
            <tbody>
              {result.vendors.map((v) => {
                const flows = undeclared(v.id);
                return (
                  <tr key={v.id}>
                    <td>
                      <Link to={`/vendors/${v.id}#flows`}>{v.name}</Link>
                    </td>
                    <td className="num">{formatNumber(v.seen)}</td>
                    <td className={v.undeclared > 0 ? "vendor-overdue" : ""}>
                      {v.undeclared === 0
                        ? "none"
                        : flows.length > 0
                          ? flows.map((f) => f.category).join(", ")
                          : formatNumber(v.undeclared)}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {result.unknown_vendors.length > 0 ? (
        <>
          <h3>Seen, but not in the inventory</h3>
          <div className="table-wrap">
            <table aria-label="Vendors not in the inventory">
              <thead>
                <tr>
                  <th scope="col">Vendor</th>
                  <th scope="col">Hosts</th>
                  <th scope="col">Categories</th>
                </tr>
              </thead>
              <tbody>
                {result.unknown_vendors.map((u) => (
                  <tr key={u.vendor_id}>
                    <td>
                      {u.vendor} <span className="muted vendor-small">({u.vendor_id})</span>
                    </td>
                    <td className="wrap-anywhere">{u.hosts.join(", ") || "–"}</td>
                    <td className="wrap-anywhere">{u.categories.join(", ") || "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted vendor-small">Add them to the inventory if they receive your data.</p>
        </>
      ) : null}
    </div>
  );
}

/** Who attached a scan: the server keeps the actor's label (user:<id>); names where this reader may see them. */
function useAttachedBy(): (label: string | null) => string {
  const { user, can } = useSession();
  const users = useUsers(can("admin"));
  return (label) => {
    const id = label ? /^user:(.+)$/.exec(label)?.[1] : undefined;
    if (!id) return label ?? "–";
    if (id === user.id) return `${user.display_name || user.email} (you)`;
    const u = users.data?.find((x) => x.id === id);
    return u ? (u.display_name ? `${u.display_name} <${u.email}>` : u.email) : (label ?? "–");
  };
}

/** The attached scans, newest first; for one vendor, whether each met it. */
export function ScanList({ vendorId }: { vendorId?: string }) {
  const attachedBy = useAttachedBy();
  const scans = useQuery({
    queryKey: vendorId ? ["vendors", vendorId, "scans"] : ["vendors", "scans"],
    queryFn: () => api.get<VendorScan[]>(vendorId ? `/vendors/${vendorId}/scans` : "/vendors/scans"),
  });
  if (scans.error) return <ErrorMessage error={scans.error} />;
  if (!scans.data) return <Loading what="Loading the scans" />;
  if (scans.data.length === 0) return <p className="muted">No scan attached yet.</p>;
  return (
    <div className="table-wrap">
      <table aria-label="Attached scans">
        <thead>
          <tr>
            <th scope="col">Scanned</th>
            <th scope="col">Start addresses</th>
            {vendorId ? <th scope="col">Saw this vendor</th> : null}
            <th scope="col" className="num">
              Flows seen
            </th>
            <th scope="col" className="num">
              Third-party hosts
            </th>
            <th scope="col">Attached by</th>
          </tr>
        </thead>
        <tbody>
          {scans.data.map((s) => (
            <tr key={s.id}>
              <td className="nowrap">{formatDate(s.scanned_at)}</td>
              <td className="wrap-anywhere">{s.urls.join(", ")}</td>
              {vendorId ? <td>{s.sees_vendor ? "yes" : "no"}</td> : null}
              <td className="num">{formatNumber(s.flows_seen)}</td>
              <td className="num">{formatNumber(s.third_party_hosts)}</td>
              <td className="wrap-anywhere">
                {attachedBy(s.attached_by)}
                <br />
                <span className="muted vendor-small">{formatDate(s.created_at)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
