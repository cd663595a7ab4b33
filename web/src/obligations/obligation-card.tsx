import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { api } from "../api/client.ts";
import type { Citation, Decision, Filing, ObligationNotice } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { clockLabel } from "../incidents/clocks.tsx";
import { Countdown, ErrorMessage, Field, formatDate, formatNumber } from "../layout/ui.tsx";
import { FilingForm, FilingList } from "./filing-form.tsx";
import { audienceLabel, DECISION_LABELS, subjectOf, useActorName } from "./use-obligations.ts";

/** One regime: each of its notices with the decision, the deadline, who is told and why. */
export function RegimeCard({
  incidentId,
  name,
  notices,
  decisions,
  filings,
}: {
  incidentId: string;
  name: string;
  notices: ObligationNotice[];
  decisions: Decision[];
  filings: Filing[];
}) {
  const headingId = useId();
  const first = notices[0];
  return (
    <section className="card regime" aria-labelledby={headingId}>
      <h3 id={headingId}>{name}</h3>
      {first ? (
        <p className="muted regime-meta">
          Rule {first.regime} version {first.rule_version}, reviewed {first.rule_reviewed}
        </p>
      ) : null}
      {notices.map((o) => (
        <NoticeSection
          key={subjectOf(o)}
          incidentId={incidentId}
          notice={o}
          answer={latestAnswer(decisions, subjectOf(o))}
          filings={filings.filter((f) => f.regime === o.regime && f.audience === o.audience)}
        />
      ))}
    </section>
  );
}

/** The answer the engine uses: the last decision recorded for the notice's subject. */
function latestAnswer(decisions: readonly Decision[], subject: string): Decision | undefined {
  return decisions
    .filter((d) => d.subject === subject && /^(required|not_required)$/.test(d.decision))
    .at(-1);
}

function NoticeSection({
  incidentId,
  notice: o,
  answer,
  filings,
}: {
  incidentId: string;
  notice: ObligationNotice;
  answer: Decision | undefined;
  filings: Filing[];
}) {
  const { can } = useSession();
  const actorName = useActorName();
  const [changing, setChanging] = useState(false);
  const [filing, setFiling] = useState(false);
  const headingId = useId();
  const title = `${o.regime_name}, notice to ${audienceLabel(o.audience)}`;
  return (
    <article className={`notice-item decision-${o.decision}`} aria-labelledby={headingId}>
      <h4 id={headingId}>
        Notice to {audienceLabel(o.audience)}{" "}
        <span className={`badge badge-decision-${o.decision}`}>{DECISION_LABELS[o.decision]}</span>
        {o.filed ? (
          <>
            {" "}
            <span className="badge badge-filed">filed</span>
          </>
        ) : null}
      </h4>
      <dl className="facts">
        <dt>Who must be notified</dt>
        <dd>{o.to}</dd>
        {o.audience === "regulator" && o.authority !== o.to ? (
          <>
            <dt>Authority</dt>
            <dd>{o.authority}</dd>
          </>
        ) : null}
        <dt>People covered</dt>
        <dd>{formatNumber(o.people)}</dd>
        {o.decision !== "not_required" ? (
          <>
            <dt>Deadline</dt>
            <dd>
              {o.filed ? (
                <>
                  Filed {formatDate(o.filed.filed_at)}
                  {o.filed.reference ? `, reference ${o.filed.reference}` : ""}
                  {o.deadline ? (
                    <span className="muted">
                      {" "}
                      (deadline was {formatDate(o.deadline)}
                      {new Date(o.filed.filed_at) > new Date(o.deadline) ? ": filed late" : ""})
                    </span>
                  ) : null}
                </>
              ) : o.deadline ? (
                <>
                  <Countdown to={o.deadline} />{" "}
                  <span className="muted">
                    due <time dateTime={o.deadline}>{formatDate(o.deadline)}</time>, from the{" "}
                    {clockLabel(o.clock)} clock
                  </span>
                </>
              ) : (
                <span>no fixed date</span>
              )}
              <br />
              <span className="muted">{o.timing}</span>
            </dd>
          </>
        ) : null}
      </dl>
      <p className="reason">{o.reason}</p>

      {o.decision === "judgment" && o.question ? (
        <div className="judgment">
          <p>
            <strong>Question for a person:</strong> {o.question}
          </p>
          {can("responder") ? (
            <AnswerForm incidentId={incidentId} notice={o} title={title} />
          ) : (
            <p className="muted">A responder must answer this question.</p>
          )}
        </div>
      ) : null}

      {o.answered ? (
        <div className="judgment answered">
          <p>
            <strong>Question:</strong> {o.answered.question}
          </p>
          <p>
            <strong>Answered:</strong> {DECISION_LABELS[o.decision]}, by{" "}
            {actorName(answer?.decided_by ?? o.answered.by)}
            {answer ? `, ${formatDate(answer.decided_at)}` : ""}
          </p>
          {answer?.rationale ? <p className="rationale">Rationale: {answer.rationale}</p> : null}
          {can("responder") ? (
            changing ? (
              <AnswerForm
                incidentId={incidentId}
                notice={o}
                title={title}
                initial={o.decision === "not_required" ? "not_required" : "required"}
                onDone={() => setChanging(false)}
              />
            ) : (
              <button type="button" aria-label={`Change answer: ${title}`} onClick={() => setChanging(true)}>
                Change answer
              </button>
            )
          ) : null}
        </div>
      ) : null}

      {o.contents.length > 0 && o.decision !== "not_required" ? (
        <details>
          <summary>What the notice must contain</summary>
          <ul>
            {o.contents.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        </details>
      ) : null}

      <Citations citations={o.citations} />

      {filings.length > 0 ? <FilingList incidentId={incidentId} filings={filings} /> : null}
      {o.decision === "required" && can("responder") ? (
        filing ? (
          <FilingForm incidentId={incidentId} notice={o} title={title} onDone={() => setFiling(false)} />
        ) : (
          <button
            type="button"
            className={o.filed ? undefined : "primary"}
            aria-label={`${o.filed ? "Record another filing" : "Mark as filed"}: ${title}`}
            onClick={() => setFiling(true)}
          >
            {o.filed ? "Record another filing" : "Mark as filed"}
          </button>
        )
      ) : null}
    </article>
  );
}

function Citations({ citations }: { citations: readonly Citation[] }) {
  if (citations.length === 0) return null;
  return (
    <div className="citations">
      <strong>Citations</strong>
      <ul>
        {citations.map((c) => (
          <li key={`${c.source} ${c.provision}`}>
            {c.source}, {c.provision}
            {c.url ? (
              <>
                {" "}
                {/* Only https links are followed; anything else is shown as text, never as a link. */}
                {/^https:\/\//i.test(c.url) ? (
                  <a href={c.url} target="_blank" rel="noopener noreferrer">
                    {c.url}
                  </a>
                ) : (
                  <span className="muted">{c.url}</span>
                )}
              </>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

function AnswerForm({
  incidentId,
  notice,
  title,
  initial,
  onDone,
}: {
  incidentId: string;
  notice: ObligationNotice;
  title: string;
  initial?: "required" | "not_required";
  onDone?: () => void;
}) {
  const client = useQueryClient();
  const [decision, setDecision] = useState<"required" | "not_required" | "">(initial ?? "");
  const [rationale, setRationale] = useState("");
  const name = useId();
  const answer = useMutation({
    mutationFn: () =>
      api.post<Decision>(`/incidents/${incidentId}/decisions`, {
        subject: subjectOf(notice),
        decision,
        rationale,
      }),
    onSuccess: async () => {
      await Promise.all([
        client.invalidateQueries({ queryKey: ["incident", incidentId, "decisions"] }),
        client.invalidateQueries({ queryKey: ["incident", incidentId, "obligations"] }),
      ]);
      onDone?.();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    answer.mutate();
  };
  return (
    <form className="answer-form" onSubmit={submit} aria-label={`Answer: ${title}`}>
      <fieldset>
        <legend>Is the notice required?</legend>
        <label className="choice">
          <input
            type="radio"
            name={name}
            value="required"
            required
            checked={decision === "required"}
            onChange={() => setDecision("required")}
          />{" "}
          Required
        </label>
        <label className="choice">
          <input
            type="radio"
            name={name}
            value="not_required"
            checked={decision === "not_required"}
            onChange={() => setDecision("not_required")}
          />{" "}
          Not required
        </label>
      </fieldset>
      <Field
        label="Rationale"
        hint="Why: the facts and the advice the answer rests on (kept in the decision log)"
      >
        {(id) => (
          <textarea
            id={id}
            required
            rows={3}
            maxLength={20_000}
            value={rationale}
            onChange={(e) => setRationale(e.target.value)}
          />
        )}
      </Field>
      <ErrorMessage error={answer.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={answer.isPending}>
          Record answer
        </button>
        {onDone ? (
          <button type="button" onClick={onDone}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
