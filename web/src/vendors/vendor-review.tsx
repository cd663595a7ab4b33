import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api/client.ts";
import type { AssignedRequirementSet, CompletedReview, RequirementSet, Vendor } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { Card, ErrorMessage, Field, formatDate, Loading, Notice } from "../layout/ui.tsx";
import { formatDay, isPastDay } from "./review-common.ts";
import { useRequirementSets } from "./vendor-common.tsx";
import { VendorQuestionnaires } from "./vendor-questionnaires.tsx";
import "./review.css";

/** Days between reviews when the vendor has none set (the server's default). */
const DEFAULT_INTERVAL_DAYS = 365;

/**
 * The ecosystem review of one vendor: the requirement set it is held to (and what that asks), its
 * recurring review, and the questionnaires sent to it.
 */
export function VendorReview({ vendor }: { vendor: Vendor }) {
  const sets = useRequirementSets();
  const set = sets.data?.find((s) => s.name === vendor.requirement_set) ?? null;
  return (
    <div className="review-sections">
      <Card title="Requirements" className="review-requirements">
        <ErrorMessage error={sets.error} />
        {!sets.data ? (
          <Loading what="Loading the requirement sets" />
        ) : (
          <RequirementSetPicker vendor={vendor} sets={sets.data} />
        )}
        {set ? <RequirementList set={set} /> : null}
      </Card>
      <ReviewDates vendor={vendor} />
      <VendorQuestionnaires vendor={vendor} set={set} />
    </div>
  );
}

function RequirementSetPicker({ vendor, sets }: { vendor: Vendor; sets: RequirementSet[] }) {
  const { can } = useSession();
  const client = useQueryClient();
  const current = vendor.requirement_set;
  const [choice, setChoice] = useState(current ?? "");
  const [done, setDone] = useState<string | null>(null);
  // a set assigned elsewhere (every vendor of a tier at once) shows here when the vendor is read again
  useEffect(() => setChoice(current ?? ""), [current]);
  const assign = useMutation({
    mutationFn: (set: string | null) =>
      api.post<AssignedRequirementSet>(`/vendors/${vendor.id}/requirement-set`, { set }),
    onSuccess: async (r) => {
      setDone(
        r.requirement_set
          ? `${vendor.name} is now held to ${titleOf(sets, r.requirement_set)}.`
          : `${vendor.name} is no longer held to a requirement set.`,
      );
      await client.invalidateQueries({ queryKey: ["vendors"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    assign.mutate(choice || null);
  };
  return (
    <>
      <p>
        {current ? (
          <>
            Held to <strong>{titleOf(sets, current)}</strong> <code>{current}</code>
          </>
        ) : (
          "Not held to a requirement set yet: choose one to send it questionnaires."
        )}
      </p>
      {can("responder") ? (
        <form className="inline-form" onSubmit={submit} aria-label="Hold the vendor to a requirement set">
          <Field label="Requirement set">
            {(id) => (
              <select id={id} value={choice} onChange={(e) => setChoice(e.target.value)}>
                <option value="">(none)</option>
                {sets.map((s) => (
                  <option key={s.name} value={s.name}>
                    {s.title} ({s.name})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <button type="submit" disabled={assign.isPending || choice === (current ?? "")}>
            Hold to this set
          </button>
        </form>
      ) : null}
      <ErrorMessage error={assign.error} />
      {done ? <Notice>{done}</Notice> : null}
    </>
  );
}

const titleOf = (sets: RequirementSet[], name: string) => sets.find((s) => s.name === name)?.title ?? name;

function RequirementList({ set }: { set: RequirementSet }) {
  return (
    <details className="requirement-list">
      <summary>
        What {set.title} asks: {set.requirements.length} requirement{set.requirements.length === 1 ? "" : "s"}
      </summary>
      <p className="muted">
        {set.description} A failed answer opens a finding of severity {set.finding_severity}.
      </p>
      <ol>
        {set.requirements.map((r) => (
          <li key={r.id}>
            <strong>{r.title}</strong>
            <p className="requirement-question">{r.question}</p>
            <p className="muted">Why: {r.why}</p>
          </li>
        ))}
      </ol>
    </details>
  );
}

function ReviewDates({ vendor }: { vendor: Vendor }) {
  const { can } = useSession();
  const client = useQueryClient();
  const [note, setNote] = useState("");
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const complete = useMutation({
    mutationFn: () =>
      api.post<CompletedReview>(`/vendors/${vendor.id}/reviews/complete`, { note: note.trim() || null }),
    onSuccess: async (r) => {
      setOpen(false);
      setNote("");
      setDone(`Review recorded. The next review is due on ${formatDay(r.next_review_at)}.`);
      await client.invalidateQueries({ queryKey: ["vendors"] });
    },
  });
  const overdue = isPastDay(vendor.next_review_at);
  const interval = vendor.review_interval_days;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    complete.mutate();
  };
  return (
    <Card title="Review" className="review-dates">
      <dl className="facts">
        <dt>Last reviewed</dt>
        <dd>{vendor.last_reviewed_at ? formatDate(vendor.last_reviewed_at) : "never"}</dd>
        <dt>Next review</dt>
        <dd className={overdue ? "review-overdue" : undefined} data-testid="next-review">
          {vendor.next_review_at ? formatDay(vendor.next_review_at) : "not scheduled"}
          {overdue ? (
            <>
              {" "}
              <span className="badge badge-overdue">overdue</span>
            </>
          ) : null}
        </dd>
        <dt>Interval</dt>
        <dd>
          {interval
            ? `every ${interval} day${interval === 1 ? "" : "s"}`
            : `every ${DEFAULT_INTERVAL_DAYS} days (the default)`}
        </dd>
      </dl>
      {done ? <Notice>{done}</Notice> : null}
      {can("responder") ? (
        open ? (
          <form onSubmit={submit} aria-label="Complete review">
            <Field
              label="Review note"
              hint="Optional: what was checked and decided (kept in the vendor's notes)"
            >
              {(id) => (
                <textarea
                  id={id}
                  rows={3}
                  maxLength={5000}
                  value={note}
                  onChange={(e) => setNote(e.target.value)}
                />
              )}
            </Field>
            <ErrorMessage error={complete.error} />
            <div className="actions">
              <button type="submit" className="primary" disabled={complete.isPending}>
                Record the review
              </button>
              <button
                type="button"
                onClick={() => {
                  setOpen(false);
                  complete.reset();
                }}
              >
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <button
            type="button"
            onClick={() => {
              setOpen(true);
              setDone(null);
            }}
          >
            Complete review
          </button>
        )
      ) : null}
    </Card>
  );
}
