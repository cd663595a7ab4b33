import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, query } from "../api/client.ts";
import type { AuditCheck, AuditEvent } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { ErrorMessage, Field, formatDate, formatNumber, Loading, PageHeader } from "../layout/ui.tsx";
import { useUsers } from "../users/users-page.tsx";

const PAGE = 50;

/** The audit log (admins only): its hash chain's check first, then the events a page at a time. */
export function AuditPage() {
  const { can } = useSession();
  if (!can("admin")) {
    return (
      <section>
        <PageHeader title="Audit log" />
        <p className="notice" role="status">
          Admins only: the audit log shows who looked at whose data, so only admins read it.
        </p>
      </section>
    );
  }
  return (
    <section>
      <PageHeader title="Audit log" />
      <p className="muted">
        Every change, sign-in and read of personal data, in order. Each event's hash covers the event and the
        one before it, so a changed, removed or reordered event breaks the chain.
      </p>
      <ChainStatus />
      <Events />
    </section>
  );
}

function ChainStatus() {
  const check = useQuery({
    queryKey: ["audit", "verify"],
    queryFn: () => api.get<AuditCheck>("/audit/verify"),
  });
  const c = check.data;
  return (
    <section className="card chain-status" aria-labelledby="chain-title">
      <h2 id="chain-title">Hash chain</h2>
      <ErrorMessage error={check.error} />
      {check.isFetching && !c ? <Loading what="Checking the chain" /> : null}
      {c ? (
        <div role="status" aria-live="polite">
          {c.ok ? (
            <p className="chain-ok">
              <strong>Chain verified: {formatNumber(c.events)} events</strong>
            </p>
          ) : (
            <div className="chain-broken">
              <p>
                <strong>
                  Chain broken: {formatNumber(c.problems.length)} problem{c.problems.length === 1 ? "" : "s"}{" "}
                  in {formatNumber(c.events)} events
                </strong>
              </p>
              <ul>
                {c.problems.slice(0, 50).map((p) => (
                  <li key={`${p.seq}-${p.problem}`}>
                    Event {p.seq}: {p.problem}
                  </li>
                ))}
              </ul>
              {c.problems.length > 50 ? <p>…and {formatNumber(c.problems.length - 50)} more.</p> : null}
            </div>
          )}
          {c.head ? (
            <p className="muted">
              Head: <code className="wrap-anywhere">{`${c.head.seq}:${c.head.hash}`}</code> (keep it elsewhere
              and check later with <code>blastradius audit verify --anchor</code>)
            </p>
          ) : null}
        </div>
      ) : null}
      <button type="button" onClick={() => check.refetch()} disabled={check.isFetching}>
        {check.isFetching ? "Verifying…" : "Verify again"}
      </button>
    </section>
  );
}

/** "user:<id>" with the account's email when it is known (admins read the accounts). */
function ActorCell({ label }: { label: string }) {
  const users = useUsers();
  const [kind, id] = label.split(":");
  const email = kind === "user" ? users.data?.find((u) => u.id === id)?.email : undefined;
  return email ? (
    <>
      {email}
      <br />
      <span className="muted">{label}</span>
    </>
  ) : (
    label
  );
}

function Events() {
  const [filters, setFilters] = useState({ action: "", subject: "" });
  const [action, setAction] = useState("");
  const [subject, setSubject] = useState("");
  // cursor paging: `after` is the last seq of the previous page; the stack lets "Previous" go back
  const [stack, setStack] = useState<number[]>([]);
  const after = stack.length ? (stack[stack.length - 1] as number) : 0;
  const events = useQuery({
    queryKey: ["audit", "events", after, filters],
    queryFn: () =>
      api.get<AuditEvent[]>(
        `/audit${query({ after, limit: PAGE, action: filters.action || undefined, subject: filters.subject || undefined })}`,
      ),
    placeholderData: keepPreviousData,
  });
  const verify = useQuery({
    queryKey: ["audit", "verify"],
    queryFn: () => api.get<AuditCheck>("/audit/verify"),
  });
  const headSeq = verify.data?.head?.seq ?? null;
  const items = events.data ?? [];
  const last = items[items.length - 1];
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setStack([]);
    setFilters({ action: action.trim(), subject: subject.trim() });
  };
  return (
    <section aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <form className="card form-grid" onSubmit={apply} aria-label="Filter events">
        <Field label="Action" hint="Exact, e.g. campaign.approve or user.create">
          {(id) => <input id={id} value={action} onChange={(e) => setAction(e.target.value)} />}
        </Field>
        <Field label="Subject" hint="Exact, e.g. campaign:users-2025-11-21 or user:<id>">
          {(id) => <input id={id} value={subject} onChange={(e) => setSubject(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              setAction("");
              setSubject("");
              setStack([]);
              setFilters({ action: "", subject: "" });
            }}
          >
            Clear filters
          </button>
        </div>
      </form>
      <ErrorMessage error={events.error} />
      <nav className="pager audit-pager" aria-label="Audit pages">
        <button type="button" disabled={stack.length === 0} onClick={() => setStack([])}>
          Oldest
        </button>
        <button type="button" disabled={stack.length === 0} onClick={() => setStack(stack.slice(0, -1))}>
          Previous
        </button>
        <span>
          {items.length === 0
            ? "no events"
            : `events ${formatNumber(items[0]?.seq)}–${formatNumber(last?.seq)}${
                headSeq !== null && !filters.action && !filters.subject ? ` of ${formatNumber(headSeq)}` : ""
              }`}
        </span>
        <button
          type="button"
          disabled={items.length < PAGE || !last}
          onClick={() => last && setStack([...stack, last.seq])}
        >
          Next
        </button>
        <button
          type="button"
          disabled={headSeq === null || (last !== undefined && last.seq >= headSeq)}
          onClick={() => headSeq !== null && setStack([...stack, Math.max(0, headSeq - PAGE)])}
        >
          Newest
        </button>
      </nav>
      {!events.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <p>No event matches.</p>
      ) : (
        <div className="table-wrap">
          <table className="audit-table">
            <thead>
              <tr>
                <th scope="col" className="num">
                  Seq
                </th>
                <th scope="col">At</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Subject</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.seq}>
                  <td className="num">{e.seq}</td>
                  <td className="nowrap">{formatDate(e.at)}</td>
                  <td className="audit-ref">
                    <ActorCell label={e.actor} />
                  </td>
                  <td>{e.action}</td>
                  <td className="audit-ref">{e.subject ?? "–"}</td>
                  <td>
                    <code className="audit-detail">
                      {Object.keys(e.detail).length ? JSON.stringify(e.detail) : ""}
                    </code>
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
