import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { Offboarding, OffboardingStep, OffboardingStepName, Vendor, VendorScan } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { Card, ErrorMessage, Field, formatDate, Loading, Notice, ProgressBar } from "../layout/ui.tsx";
import { useWho } from "./review-common.ts";
import "./review.css";

const STEPS: Record<OffboardingStepName, { title: string; help: string }> = {
  integration_removed: {
    title: "Integration removed",
    help: "The vendor's code and calls are gone: proved by an exposure scan, run and attached after offboarding started, that no longer sees the vendor.",
  },
  keys_revoked: {
    title: "Keys revoked",
    help: "API keys, tokens and accounts the vendor held for our systems are revoked.",
  },
  deletion_requested: {
    title: "Data deletion requested",
    help: "We asked the vendor to delete the data it holds about our people.",
  },
  deletion_certificate: {
    title: "Deletion certificate received",
    help: "The vendor confirmed the deletion in writing (after the request is recorded).",
  },
  contract_ended: {
    title: "Contract ended",
    help: "The contract and the DPA are terminated.",
  },
};

/**
 * Offboarding: a checklist of five steps, each with who and when (and in the audit log). The last
 * step makes the vendor offboarded.
 */
export function VendorOffboarding({ vendor }: { vendor: Vendor }) {
  const started = vendor.status === "offboarding" || vendor.status === "offboarded";
  return (
    <Card title="Offboarding" className="review-offboarding">
      {started ? <Checklist vendor={vendor} /> : <StartOffboarding vendor={vendor} />}
    </Card>
  );
}

function StartOffboarding({ vendor }: { vendor: Vendor }) {
  const { can } = useSession();
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const start = useMutation({
    mutationFn: () => api.post<Offboarding>(`/vendors/${vendor.id}/offboarding/start`),
    onSuccess: async (o) => {
      setConfirming(false);
      client.setQueryData(["vendors", vendor.id, "offboarding"], o);
      await client.invalidateQueries({ queryKey: ["vendors"] });
    },
  });
  return (
    <>
      <p className="muted">
        When you stop working with {vendor.name}: remove the integration, revoke its keys, have it delete our
        data and end the contract, each step recorded with who did it and when.
      </p>
      {!can("responder") ? null : confirming ? (
        <div className="inline-confirm" role="alertdialog" aria-label="Confirm offboarding">
          <span>
            Start offboarding {vendor.name}? Its status becomes offboarding, and its open questionnaire links
            stop working.
          </span>
          <button type="button" className="danger" disabled={start.isPending} onClick={() => start.mutate()}>
            Yes, start offboarding
          </button>
          <button
            type="button"
            onClick={() => {
              setConfirming(false);
              start.reset();
            }}
          >
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Start offboarding
        </button>
      )}
      <ErrorMessage error={start.error} />
    </>
  );
}

function Checklist({ vendor }: { vendor: Vendor }) {
  const offboarding = useQuery({
    queryKey: ["vendors", vendor.id, "offboarding"],
    queryFn: () => api.get<Offboarding>(`/vendors/${vendor.id}/offboarding`),
  });
  const o = offboarding.data;
  if (!o) {
    return offboarding.error ? (
      <ErrorMessage error={offboarding.error} />
    ) : (
      <Loading what="Loading the checklist" />
    );
  }
  const finished = o.status === "offboarded";
  return (
    <>
      {finished ? (
        <p className="offboarded" role="status">
          <span className="badge badge-offboarded">offboarded</span> All {o.total_steps} steps are done:{" "}
          {o.name} is offboarded.
        </p>
      ) : (
        <p>
          Offboarding since {formatDate(o.started_at)}.{" "}
          <span className="muted">Each step records who marked it and when, in the audit log too.</span>
        </p>
      )}
      <ProgressBar
        done={o.done_steps}
        total={o.total_steps}
        label={`${o.done_steps} of ${o.total_steps} steps`}
      />
      <ol className="offboarding-steps">
        {o.steps.map((s) => (
          <Step key={s.step} vendor={vendor} offboarding={o} step={s} />
        ))}
      </ol>
    </>
  );
}

function Step({
  vendor,
  offboarding,
  step,
}: {
  vendor: Vendor;
  offboarding: Offboarding;
  step: OffboardingStep;
}) {
  const { can } = useSession();
  const who = useWho();
  const [marking, setMarking] = useState(false);
  const meta = STEPS[step.step];
  return (
    <li
      className={`offboarding-step ${step.done ? "step-done" : "step-pending"}`}
      data-testid={`step-${step.step}`}
    >
      <div className="step-head">
        <h3>{meta.title}</h3>
        <span className={`badge ${step.done ? "badge-done" : "badge-pending"}`}>
          {step.done ? "done" : "to do"}
        </span>
      </div>
      {step.done ? (
        <>
          <p>
            Done by <strong>{who(step.done_by, step.done_by_label)}</strong> on {formatDate(step.done_at)}
            {step.scan_id ? (
              <>
                , proved by scan <code>{step.scan_id}</code>
              </>
            ) : null}
            .
          </p>
          {step.note ? <p className="step-note">{step.note}</p> : null}
        </>
      ) : (
        <>
          <p className="muted">{meta.help}</p>
          {!can("responder") || offboarding.status !== "offboarding" ? null : marking ? (
            <MarkDone
              vendor={vendor}
              offboarding={offboarding}
              step={step.step}
              onClose={() => setMarking(false)}
            />
          ) : (
            <button type="button" aria-label={`Mark done: ${meta.title}`} onClick={() => setMarking(true)}>
              Mark done
            </button>
          )}
        </>
      )}
    </li>
  );
}

function MarkDone({
  vendor,
  offboarding,
  step,
  onClose,
}: {
  vendor: Vendor;
  offboarding: Offboarding;
  step: OffboardingStepName;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const [note, setNote] = useState("");
  const [scan, setScan] = useState("");
  const needsScan = step === "integration_removed";
  const mark = useMutation({
    mutationFn: () =>
      api.post<Offboarding>(`/vendors/${vendor.id}/offboarding/steps`, {
        step,
        note: note.trim() || null,
        ...(needsScan ? { scan_id: scan || null } : {}),
      }),
    onSuccess: async (o) => {
      client.setQueryData(["vendors", vendor.id, "offboarding"], o);
      onClose();
      await client.invalidateQueries({ queryKey: ["vendors"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    mark.mutate();
  };
  const title = STEPS[step].title;
  return (
    <form className="mark-done" onSubmit={submit} aria-label={`Mark done: ${title}`}>
      {needsScan ? (
        <ScanChoice vendor={vendor} offboarding={offboarding} value={scan} onChange={setScan} />
      ) : null}
      <Field label="Note" hint="Optional: what was done, a ticket or a document reference">
        {(id) => (
          <textarea
            id={id}
            rows={2}
            maxLength={5000}
            value={note}
            onChange={(e) => setNote(e.target.value)}
          />
        )}
      </Field>
      <ErrorMessage error={mark.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={mark.isPending || (needsScan && !scan)}>
          Record “{title}”
        </button>
        <button
          type="button"
          onClick={() => {
            mark.reset();
            onClose();
          }}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Why a scan cannot prove the integration gone, or null when it can. */
export function scanUnfitness(scan: VendorScan, startedAt: string | null): string | null {
  const started = startedAt ? new Date(startedAt).getTime() : Number.NaN;
  if (Number.isNaN(started)) return "offboarding has no start time";
  if (new Date(scan.scanned_at).getTime() < started) return "run before offboarding started";
  if (new Date(scan.created_at).getTime() < started) return "attached before offboarding started";
  if (scan.sees_vendor !== false) return "this scan still sees the vendor";
  return null;
}

function ScanChoice({
  vendor,
  offboarding,
  value,
  onChange,
}: {
  vendor: Vendor;
  offboarding: Offboarding;
  value: string;
  onChange: (id: string) => void;
}) {
  const scans = useQuery({
    queryKey: ["vendors", vendor.id, "scans"],
    queryFn: () => api.get<VendorScan[]>(`/vendors/${vendor.id}/scans`),
    // the scan that proves removal is usually attached just before this form is opened
    refetchOnMount: "always",
  });
  const rows = (scans.data ?? []).map((s) => ({ scan: s, why: scanUnfitness(s, offboarding.started_at) }));
  const fit = rows.filter((r) => r.why === null).length;
  return (
    <div className="scan-choice">
      <ErrorMessage error={scans.error} />
      {!scans.data ? (
        <Loading what="Loading the attached scans" />
      ) : (
        <Field
          label="Scan that no longer sees the vendor"
          hint="Only a scan run and attached after offboarding started, that no longer meets the vendor, proves the integration is gone."
        >
          {(id) => (
            <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
              <option value="">{fit === 0 ? "(no scan qualifies yet)" : "(choose a scan)"}</option>
              {rows.map(({ scan: s, why }) => (
                <option key={s.id} value={s.id} disabled={why !== null}>
                  {formatDate(s.scanned_at)} · {s.urls[0] ?? ""}
                  {s.urls.length > 1 ? ` +${s.urls.length - 1}` : ""}
                  {why ? ` (${why})` : ""}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <button type="button" className="link" disabled={scans.isFetching} onClick={() => scans.refetch()}>
        {scans.isFetching ? "Looking for scans…" : "Look for newly attached scans"}
      </button>
      {scans.data && fit === 0 ? (
        <Notice>
          No attached scan shows the integration gone yet. Remove the integration, run the exposure scan and
          attach it (<code>blastradius vendors attach-scan DIR</code>), then choose it here.
        </Notice>
      ) : null}
      {rows.some((r) => r.why !== null) ? (
        <ul className="scan-unfit muted" aria-label="Scans that cannot be chosen">
          {rows
            .filter((r) => r.why !== null)
            .map(({ scan: s, why }) => (
              <li key={s.id}>
                Scan of {formatDate(s.scanned_at)}: {why}
              </li>
            ))}
        </ul>
      ) : null}
    </div>
  );
}
