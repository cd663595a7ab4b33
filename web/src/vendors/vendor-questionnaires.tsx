import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { API, api } from "../api/client.ts";
import type {
  AnswerValue,
  Questionnaire,
  QuestionnaireEvidence,
  QuestionnaireSent,
  QuestionnaireStatus,
  RequirementSet,
  Vendor,
} from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { Card, ErrorMessage, Field, formatBytes, formatDate, Loading } from "../layout/ui.tsx";
import { useRequirementSets } from "./vendor-common.tsx";
import "./review.css";

const EXPIRY_DAYS_DEFAULT = 14;
const EXPIRY_DAYS_MAX = 90;

export const ANSWER_LABELS: Record<AnswerValue, string> = {
  yes: "yes",
  no: "no",
  partial: "partial",
  not_applicable: "not applicable",
};

const STATUS: Record<QuestionnaireStatus, { label: string; className: string }> = {
  sent: { label: "awaiting answers", className: "badge-pending" },
  submitted: { label: "answered", className: "badge-done" },
  revoked: { label: "revoked", className: "badge-revoked" },
  expired: { label: "expired", className: "badge-expired" },
};

/**
 * Questionnaires: the requirement set sent as a link the vendor answers without an account. The
 * link holds a secret token that the server keeps only as a hash, so it is shown once, here.
 */
export function VendorQuestionnaires({ vendor, set }: { vendor: Vendor; set: RequirementSet | null }) {
  const { can } = useSession();
  const questionnaires = useQuery({
    queryKey: ["vendors", vendor.id, "questionnaires"],
    queryFn: () => api.get<Questionnaire[]>(`/vendors/${vendor.id}/questionnaires`),
  });
  const sets = useRequirementSets();
  const leaving = vendor.status === "offboarding" || vendor.status === "offboarded";
  return (
    <Card title="Questionnaires" className="review-questionnaires">
      {!can("responder") ? null : leaving ? (
        <p className="muted">
          {vendor.name} is {vendor.status.replaceAll("_", " ")}: no new questionnaires (its open links were
          revoked when offboarding started).
        </p>
      ) : !vendor.requirement_set ? (
        <p className="muted">
          Hold {vendor.name} to a requirement set first: the questionnaire asks its questions.
        </p>
      ) : (
        <SendQuestionnaire vendor={vendor} set={set} />
      )}
      <ErrorMessage error={questionnaires.error} />
      {!questionnaires.data ? (
        <Loading what="Loading the questionnaires" />
      ) : questionnaires.data.length === 0 ? (
        <p>No questionnaire sent yet.</p>
      ) : (
        <ul className="questionnaire-list">
          {questionnaires.data.map((q) => (
            <QuestionnaireItem
              key={q.id}
              vendor={vendor}
              questionnaire={q}
              set={sets.data?.find((s) => s.name === q.requirement_set) ?? null}
            />
          ))}
        </ul>
      )}
    </Card>
  );
}

function SendQuestionnaire({ vendor, set }: { vendor: Vendor; set: RequirementSet | null }) {
  const client = useQueryClient();
  const [recipient, setRecipient] = useState("");
  const [days, setDays] = useState(String(EXPIRY_DAYS_DEFAULT));
  const [sent, setSent] = useState<{ url: string; expires: string } | null>(null);
  const send = useMutation({
    mutationFn: () =>
      api.post<QuestionnaireSent>(`/vendors/${vendor.id}/questionnaires`, {
        recipient: recipient.trim() || null,
        expires_in_days: Number(days),
      }),
    onSuccess: async (r) => {
      setSent({ url: `${window.location.origin}${r.link}`, expires: r.questionnaire.expires_at });
      setRecipient("");
      await client.invalidateQueries({ queryKey: ["vendors", vendor.id, "questionnaires"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSent(null);
    send.mutate();
  };
  return (
    <>
      <form className="inline-form" onSubmit={submit} aria-label="Send questionnaire">
        <Field label="Recipient email" hint="Optional: whom you will send the link to (for your records)">
          {(id) => (
            <input
              id={id}
              type="email"
              maxLength={300}
              autoComplete="off"
              value={recipient}
              onChange={(e) => setRecipient(e.target.value)}
            />
          )}
        </Field>
        <Field label="Link expires after (days)">
          {(id) => (
            <input
              id={id}
              type="number"
              required
              min={1}
              max={EXPIRY_DAYS_MAX}
              step={1}
              value={days}
              onChange={(e) => setDays(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="primary" disabled={send.isPending}>
          Send questionnaire
        </button>
      </form>
      {set ? (
        <p className="muted">
          The vendor answers the {set.requirements.length} questions of {set.title}, without an account.
        </p>
      ) : null}
      <ErrorMessage error={send.error} />
      {sent ? <LinkOnce url={sent.url} expires={sent.expires} onDone={() => setSent(null)} /> : null}
    </>
  );
}

/** The new link, this once: a copy button, and the link in a field to copy by hand if that fails. */
function LinkOnce({ url, expires, onDone }: { url: string; expires: string; onDone: () => void }) {
  const [copy, setCopy] = useState<"idle" | "copied" | "failed">("idle");
  const copyLink = () => {
    if (!navigator.clipboard) {
      setCopy("failed");
      return;
    }
    navigator.clipboard.writeText(url).then(
      () => setCopy("copied"),
      () => setCopy("failed"),
    );
  };
  return (
    <div className="notice link-once" role="status">
      <p>
        <strong>Questionnaire sent.</strong> Give this link to the vendor. It is shown only now and will not
        be shown again; anyone who has it can answer until {formatDate(expires)}.
      </p>
      <Field label="Questionnaire link">
        {(id) => (
          <input
            id={id}
            className="link-once-url"
            readOnly
            value={url}
            onFocus={(e) => e.currentTarget.select()}
          />
        )}
      </Field>
      <div className="actions">
        <button type="button" onClick={copyLink}>
          Copy link
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
        <span aria-live="polite" className="muted">
          {copy === "copied"
            ? "Copied."
            : copy === "failed"
              ? "This browser did not allow copying: select the link in the field and copy it."
              : ""}
        </span>
      </div>
    </div>
  );
}

function QuestionnaireItem({
  vendor,
  questionnaire: q,
  set,
}: {
  vendor: Vendor;
  questionnaire: Questionnaire;
  set: RequirementSet | null;
}) {
  const { can } = useSession();
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const revoke = useMutation({
    mutationFn: () => api.post<Questionnaire>(`/vendors/${vendor.id}/questionnaires/${q.id}/revoke`),
    onSuccess: async () => {
      setConfirming(false);
      await client.invalidateQueries({ queryKey: ["vendors", vendor.id, "questionnaires"] });
    },
  });
  const status = STATUS[q.status];
  const title = `Questionnaire of ${formatDate(q.created_at)}`;
  return (
    <li className="questionnaire-item" aria-label={title}>
      <h3>
        {title} <span className={`badge ${status.className}`}>{status.label}</span>
      </h3>
      <dl className="facts">
        <dt>Requirement set</dt>
        <dd>{set ? `${set.title} (${q.requirement_set})` : q.requirement_set}</dd>
        <dt>Recipient</dt>
        <dd>{q.recipient ?? "–"}</dd>
        <dt>{q.status === "expired" ? "Expired" : "Expires"}</dt>
        <dd>{formatDate(q.expires_at)}</dd>
        {q.submitted_at ? (
          <>
            <dt>Answered by</dt>
            <dd>
              {q.respondent ?? "–"} on {formatDate(q.submitted_at)}
            </dd>
          </>
        ) : null}
      </dl>
      {q.answers || q.evidence.length > 0 ? (
        <Answers vendor={vendor} questionnaire={q} set={set} canDownload={can("responder")} />
      ) : null}
      {q.status === "sent" && can("responder") ? (
        confirming ? (
          <div className="inline-confirm" role="alertdialog" aria-label="Revoke the link">
            <span>Revoke this link? The vendor can no longer open it or answer.</span>
            <button
              type="button"
              className="danger"
              disabled={revoke.isPending}
              onClick={() => revoke.mutate()}
            >
              Yes, revoke
            </button>
            <button
              type="button"
              onClick={() => {
                setConfirming(false);
                revoke.reset();
              }}
            >
              Keep it
            </button>
          </div>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Revoke link
          </button>
        )
      ) : null}
      <ErrorMessage error={revoke.error} />
    </li>
  );
}

function Answers({
  vendor,
  questionnaire: q,
  set,
  canDownload,
}: {
  vendor: Vendor;
  questionnaire: Questionnaire;
  set: RequirementSet | null;
  canDownload: boolean;
}) {
  // The set's order, then anything answered or attached that the set no longer has.
  const ids = [
    ...(set?.requirements.map((r) => r.id) ?? []),
    ...Object.keys(q.answers ?? {}),
    ...q.evidence.map((e) => e.requirement_id),
  ].filter((id, i, all) => all.indexOf(id) === i);
  const titleOf = (id: string) => set?.requirements.find((r) => r.id === id)?.title ?? id;
  return (
    <div className="table-wrap">
      <table className="answers-table">
        <caption>{q.answers ? "Answers" : "Evidence received so far (not answered yet)"}</caption>
        <thead>
          <tr>
            <th scope="col">Requirement</th>
            <th scope="col">Answer</th>
            <th scope="col">Comment</th>
            <th scope="col">Evidence</th>
          </tr>
        </thead>
        <tbody>
          {ids.map((id) => {
            const a = q.answers?.[id];
            const files = q.evidence.filter((e) => e.requirement_id === id);
            return (
              <tr key={id}>
                <th scope="row">{titleOf(id)}</th>
                <td>
                  {a ? <span className={`badge answer-${a.answer}`}>{ANSWER_LABELS[a.answer]}</span> : "–"}
                </td>
                <td className="answer-comment">{a?.comment || "–"}</td>
                <td>
                  {files.length === 0 ? (
                    "–"
                  ) : (
                    <ul className="evidence-files">
                      {files.map((e) => (
                        <EvidenceFile
                          key={e.id}
                          href={`${API}/vendors/${vendor.id}/questionnaires/${q.id}/evidence/${e.id}`}
                          evidence={e}
                          canDownload={canDownload}
                        />
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function EvidenceFile({
  href,
  evidence: e,
  canDownload,
}: {
  href: string;
  evidence: QuestionnaireEvidence;
  canDownload: boolean;
}) {
  return (
    <li>
      {canDownload ? (
        <a href={href} download={e.name}>
          {e.name}
        </a>
      ) : (
        <span className="file-name">{e.name}</span>
      )}{" "}
      <span className="muted">({formatBytes(e.bytes)})</span>
    </li>
  );
}
