import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { useParams } from "react-router-dom";
import { API, ApiError } from "../api/client.ts";
import type { AnswerValue, PublicQuestionnaire, QuestionnaireSubmitted } from "../api/types.ts";
import { ErrorMessage, Field, formatBytes, formatDate, Loading } from "../layout/ui.tsx";
import "./questionnaire.css";

/**
 * The security questionnaire a vendor answers through a link, with no account: the link's token is
 * the only credential. Every request goes without cookies: a staff member who opens the link in a
 * signed-in browser would otherwise send a session, and the server would ask for a CSRF token.
 */

const ANSWERS: { value: AnswerValue; label: string }[] = [
  { value: "yes", label: "Yes" },
  { value: "no", label: "No" },
  { value: "partial", label: "Partly" },
  { value: "not_applicable", label: "Not applicable" },
];
const answerLabel = (a: AnswerValue) => ANSWERS.find((x) => x.value === a)?.label ?? a;

type PublicEvidence = PublicQuestionnaire["evidence"][number];

async function publicRequest<T>(method: "GET" | "POST", path: string, body?: FormData | object): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(`${API}${path}`, { method, headers, body: payload, credentials: "omit" });
  const parsed = (await response.json().catch(() => null)) as
    | (T & { error?: { code?: string; message?: string } })
    | null;
  if (!response.ok || parsed === null) {
    throw new ApiError(
      response.status,
      parsed?.error?.code ?? `HTTP_${response.status}`,
      response.status === 429
        ? "Too many requests from your address. Wait a minute and try again."
        : (parsed?.error?.message ?? `The server answered ${response.status}. Try again later.`),
    );
  }
  return parsed;
}

export function QuestionnairePage() {
  const { token = "" } = useParams();
  const path = `/questionnaires/${encodeURIComponent(token)}`;
  const questionnaire = useQuery({
    queryKey: ["questionnaire", token],
    queryFn: () => publicRequest<PublicQuestionnaire>("GET", path),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const q = questionnaire.data;
  return (
    <main className="questionnaire-page">
      {q ? (
        q.status === "submitted" ? (
          <Submitted questionnaire={q} />
        ) : (
          <AnswerForm questionnaire={q} path={path} token={token} />
        )
      ) : questionnaire.error ? (
        <Unavailable error={questionnaire.error} />
      ) : (
        <Loading what="Opening the questionnaire" />
      )}
    </main>
  );
}

function Unavailable({ error }: { error: unknown }) {
  const status = error instanceof ApiError ? error.status : 0;
  if (status === 404) {
    return (
      <section className="card q-unavailable">
        <h1>This link is not valid</h1>
        <p>
          Check that you opened the whole link as you received it. If it still does not work, ask your
          contact.
        </p>
      </section>
    );
  }
  if (status === 410) {
    return (
      <section className="card q-unavailable">
        <h1>This link has expired or was withdrawn</h1>
        <p>Ask your contact for a new one.</p>
      </section>
    );
  }
  return (
    <section className="card q-unavailable">
      <h1>The questionnaire cannot be opened</h1>
      <ErrorMessage error={error} />
    </section>
  );
}

function Intro({ questionnaire: q }: { questionnaire: PublicQuestionnaire }) {
  return (
    <header className="q-header">
      <p className="q-kicker">Security questionnaire</p>
      <h1>{q.vendor}</h1>
      <p>
        <strong>{q.set.title}</strong>
      </p>
      <p>{q.set.description}</p>
    </header>
  );
}

type Draft = Record<string, { answer: AnswerValue | null; comment: string }>;

function AnswerForm({
  questionnaire: q,
  path,
  token,
}: {
  questionnaire: PublicQuestionnaire;
  path: string;
  token: string;
}) {
  const client = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() =>
    Object.fromEntries(q.requirements.map((r) => [r.id, { answer: null, comment: "" }])),
  );
  const [respondent, setRespondent] = useState("");
  const [missing, setMissing] = useState<string[] | null>(null);
  const problem = useRef<HTMLDivElement>(null);
  const submit = useMutation({
    mutationFn: () =>
      publicRequest<QuestionnaireSubmitted>("POST", path, {
        respondent: respondent.trim(),
        answers: Object.fromEntries(
          Object.entries(draft).map(([id, d]) => [
            id,
            { answer: d.answer, comment: d.comment.trim() || null },
          ]),
        ),
      }),
    onSuccess: (r) => {
      client.setQueryData(["questionnaire", token], r);
      window.scrollTo(0, 0);
    },
  });
  // the problem is above the button on a long page: bring it into view
  useEffect(() => {
    if (missing?.length || submit.error) problem.current?.scrollIntoView({ block: "center" });
  }, [missing, submit.error]);

  const set = (id: string, change: Partial<Draft[string]>) =>
    setDraft((d) => ({ ...d, [id]: { answer: null, comment: "", ...d[id], ...change } }));
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const unanswered = q.requirements.filter((r) => !draft[r.id]?.answer).map((r) => r.id);
    setMissing(unanswered);
    if (unanswered.length > 0 || respondent.trim() === "") return;
    submit.mutate();
  };
  const numbered = (id: string) => {
    const i = q.requirements.findIndex((r) => r.id === id);
    return `${i + 1}. ${q.requirements[i]?.title ?? id}`;
  };
  const gone = submit.error instanceof ApiError && submit.error.status === 410;
  return (
    <>
      <Intro questionnaire={q} />
      <p className="notice q-expiry">
        Please answer by <strong>{formatDate(q.expires_at)}</strong>. Answer every question, add a comment
        where it helps, and attach evidence (a policy, a report, a screenshot) where you have it. Your answers
        are sent once, when you press Submit.
      </p>
      <form onSubmit={onSubmit} aria-label="Questionnaire" noValidate>
        {q.requirements.map((r, i) => (
          <RequirementItem
            key={r.id}
            number={i + 1}
            requirement={r}
            value={draft[r.id] ?? { answer: null, comment: "" }}
            missing={missing?.includes(r.id) ?? false}
            onChange={(change) => set(r.id, change)}
            evidence={q.evidence.filter((e) => e.requirement_id === r.id)}
            maxBytes={q.max_evidence_bytes}
            path={path}
            token={token}
          />
        ))}
        <section className="card">
          <Field label="Your name and role" hint="Who answered, e.g. “Dana Smith, CISO”">
            {(id) => (
              <input
                id={id}
                required
                maxLength={300}
                autoComplete="name"
                value={respondent}
                aria-invalid={missing !== null && respondent.trim() === ""}
                onChange={(e) => setRespondent(e.target.value)}
              />
            )}
          </Field>
          <div ref={problem}>
            {missing && missing.length > 0 ? (
              <p className="error" role="alert">
                Answer every question before submitting. Still to answer: {missing.map(numbered).join("; ")}.
              </p>
            ) : missing && respondent.trim() === "" ? (
              <p className="error" role="alert">
                Give your name and role before submitting.
              </p>
            ) : null}
            {gone ? (
              <p className="error" role="alert">
                This link has expired or was withdrawn; ask your contact for a new one.
              </p>
            ) : (
              <ErrorMessage error={submit.error} />
            )}
          </div>
          <button type="submit" className="primary q-submit" disabled={submit.isPending}>
            {submit.isPending ? "Submitting…" : "Submit answers"}
          </button>
          <p className="muted">Once submitted, the answers can no longer be changed.</p>
        </section>
      </form>
    </>
  );
}

function RequirementItem({
  number,
  requirement: r,
  value,
  missing,
  onChange,
  evidence,
  maxBytes,
  path,
  token,
}: {
  number: number;
  requirement: PublicQuestionnaire["requirements"][number];
  value: Draft[string];
  missing: boolean;
  onChange: (change: Partial<Draft[string]>) => void;
  evidence: PublicEvidence[];
  maxBytes: number;
  path: string;
  token: string;
}) {
  const heading = useId();
  const name = useId();
  const unanswered = missing && !value.answer;
  return (
    <section className={`card q-item ${unanswered ? "q-missing" : ""}`} aria-labelledby={heading}>
      <h2 id={heading}>
        {number}. {r.title}
      </h2>
      <p className="q-question">{r.question}</p>
      <p className="muted q-why">Why we ask: {r.why}</p>
      <fieldset className="q-answers">
        <legend>Your answer{unanswered ? " (still to answer)" : ""}</legend>
        {ANSWERS.map((a) => (
          <label key={a.value} className="q-choice">
            <input
              type="radio"
              name={name}
              value={a.value}
              checked={value.answer === a.value}
              onChange={() => onChange({ answer: a.value })}
            />{" "}
            {a.label}
          </label>
        ))}
      </fieldset>
      <Field label="Comment" hint="Optional: how you meet it, or what is missing and when it will be fixed">
        {(id) => (
          <textarea
            id={id}
            rows={3}
            maxLength={5000}
            value={value.comment}
            onChange={(e) => onChange({ comment: e.target.value })}
          />
        )}
      </Field>
      <EvidenceUpload
        requirementId={r.id}
        title={r.title}
        files={evidence}
        maxBytes={maxBytes}
        path={path}
        token={token}
      />
    </section>
  );
}

function EvidenceUpload({
  requirementId,
  title,
  files,
  maxBytes,
  path,
  token,
}: {
  requirementId: string;
  title: string;
  files: PublicEvidence[];
  maxBytes: number;
  path: string;
  token: string;
}) {
  const client = useQueryClient();
  const input = useId();
  const [file, setFile] = useState<File | null>(null);
  // a new key empties the file input (its value cannot be set)
  const [inputKey, setInputKey] = useState(0);
  const upload = useMutation({
    mutationFn: (f: File) => {
      if (f.size > maxBytes) {
        throw new ApiError(
          413,
          "TOO_LARGE",
          `${f.name} is larger than ${formatBytes(maxBytes)}: send a smaller file or a summary of it.`,
        );
      }
      // the server reads the requirement before the file, so the field goes first
      const form = new FormData();
      form.append("requirement_id", requirementId);
      form.append("file", f, f.name);
      return publicRequest<PublicEvidence>("POST", `${path}/evidence`, form);
    },
    onSuccess: (created) => {
      client.setQueryData<PublicQuestionnaire>(["questionnaire", token], (q) =>
        q ? { ...q, evidence: [...q.evidence, created] } : q,
      );
      setFile(null);
      setInputKey((k) => k + 1);
    },
  });
  return (
    <div className="q-evidence">
      {files.length > 0 ? (
        <ul className="q-files" aria-label={`Evidence attached to ${title}`}>
          {files.map((f) => (
            <li key={f.id}>
              <span className="q-file-name">{f.name}</span>{" "}
              <span className="muted">({formatBytes(f.bytes)})</span>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="field">
        <label htmlFor={input}>Evidence file for “{title}”</label>
        <div className="q-upload">
          <input
            key={inputKey}
            id={input}
            type="file"
            onChange={(e) => {
              upload.reset();
              setFile(e.target.files?.[0] ?? null);
            }}
          />
          <button
            type="button"
            disabled={!file || upload.isPending}
            onClick={() => file && upload.mutate(file)}
          >
            {upload.isPending ? "Attaching…" : "Attach file"}
          </button>
        </div>
        <small className="muted">Optional; at most {formatBytes(maxBytes)} per file.</small>
      </div>
      <ErrorMessage error={upload.error} />
    </div>
  );
}

function Submitted({ questionnaire: q }: { questionnaire: PublicQuestionnaire }) {
  return (
    <>
      <Intro questionnaire={q} />
      <section className="card q-thanks" aria-labelledby="q-thanks-title">
        <h2 id="q-thanks-title">Thank you: your answers are in</h2>
        <p>
          Submitted by {q.respondent ?? "–"} on {formatDate(q.submitted_at)}. Nothing more is needed from you
          now; your contact will follow up on anything open. This page shows your answers until{" "}
          {formatDate(q.expires_at)}.
        </p>
      </section>
      <section aria-labelledby="q-answers-title">
        <h2 id="q-answers-title">Your answers</h2>
        <ol className="q-readonly">
          {q.requirements.map((r) => {
            const a = q.answers?.[r.id];
            const files = q.evidence.filter((e) => e.requirement_id === r.id);
            return (
              <li key={r.id} className="card">
                <h3>{r.title}</h3>
                <p className="q-question">{r.question}</p>
                <p>
                  Answer:{" "}
                  <strong className={`q-answer q-answer-${a?.answer ?? "none"}`}>
                    {a ? answerLabel(a.answer) : "–"}
                  </strong>
                </p>
                {a?.comment ? <p className="q-comment">{a.comment}</p> : null}
                {files.length > 0 ? (
                  <p className="muted">Evidence: {files.map((f) => f.name).join(", ")}</p>
                ) : null}
              </li>
            );
          })}
        </ol>
      </section>
    </>
  );
}
