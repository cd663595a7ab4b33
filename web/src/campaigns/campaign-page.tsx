import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { API, api, query } from "../api/client.ts";
import type { Campaign, CampaignCounts, Delivery, DeliveryState, Preview } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { useIncidentId } from "../incidents/incident-layout.tsx";
import {
  Card,
  ErrorMessage,
  Field,
  formatDate,
  formatNumber,
  Loading,
  Pager,
  ProgressBar,
  Stat,
  StatusBadge,
} from "../layout/ui.tsx";
import { AUDIENCE_HELP, isAuthor, LOCALES, useActorName } from "./campaign-common.tsx";

type Status = { campaign: Campaign; counts: CampaignCounts };

const STATES: readonly DeliveryState[] = ["queued", "sending", "sent", "failed", "bounced", "suppressed"];
const LEDGER_PAGE = 50;

const campaignPath = (cid: string) => `/campaigns/${encodeURIComponent(cid)}`;

function useCampaignId(): string {
  const { campaignId } = useParams();
  if (!campaignId) throw new Error("no campaign in the address");
  return campaignId;
}

/** One campaign: its counts, a preview of any recipient's message, approval, sending and the ledger. */
export function CampaignPage() {
  const incidentId = useIncidentId();
  const cid = useCampaignId();
  const { can } = useSession();
  const [sendQueued, setSendQueued] = useState(false);
  const status = useQuery({
    queryKey: ["campaign", cid],
    queryFn: () => api.get<Status>(campaignPath(cid)),
    // watch the sending: every second while messages are owed (or the job has not started yet)
    refetchInterval: (q) => {
      const s = q.state.data;
      if (!s) return false;
      if (s.campaign.status === "sending") return s.counts.pending > 0 ? 1000 : 2000;
      if (sendQueued && s.campaign.status === "approved") return 1000;
      return false;
    },
  });
  const s = status.data;
  return (
    <section className="campaign">
      <p>
        <Link to={`/incidents/${incidentId}/campaigns`}>← All campaigns</Link>
      </p>
      <header className="page-header campaign-title">
        <h2>Campaign {cid}</h2>
        {s ? <StatusBadge status={s.campaign.status} /> : null}
      </header>
      <ErrorMessage error={status.error} />
      {!s ? (
        status.error ? null : (
          <Loading what="Loading the campaign" />
        )
      ) : (
        <>
          <Counts counts={s.counts} status={s.campaign.status} />
          <div className="grid-2">
            <Details campaign={s.campaign} />
            <ApproveAndSend
              status={s}
              incidentId={incidentId}
              sendQueued={sendQueued}
              onQueued={() => setSendQueued(true)}
            />
          </div>
          {can("analyst") ? (
            <>
              <PreviewCard cid={cid} />
              <Ledger cid={cid} status={s} />
            </>
          ) : (
            <p className="notice" role="status">
              Recipients and previews are personal data: analysts, responders and admins read them.
            </p>
          )}
        </>
      )}
    </section>
  );
}

function Counts({ counts, status }: { counts: CampaignCounts; status: string }) {
  const done = counts.sent + counts.failed + counts.bounced + counts.suppressed;
  return (
    <section aria-label="Delivery counts">
      <div className="stats">
        <Stat label="Recipients" value={formatNumber(counts.total)} />
        <Stat label="Sent" value={formatNumber(counts.sent)} />
        <Stat label="Failed" value={formatNumber(counts.failed)} />
        <Stat label="Bounced" value={formatNumber(counts.bounced)} />
        <Stat label="Suppressed" value={formatNumber(counts.suppressed)} />
        <Stat label="Pending" value={formatNumber(counts.pending)} />
      </div>
      {status === "sending" || status === "done" ? (
        <ProgressBar done={done} total={counts.total} label="Sending progress" />
      ) : null}
      {status === "done" ? (
        <p className="campaign-finished" role="status">
          Sending finished: {formatNumber(counts.sent)} sent, {formatNumber(counts.failed)} failed,{" "}
          {formatNumber(counts.bounced)} bounced, {formatNumber(counts.suppressed)} suppressed.
        </p>
      ) : null}
    </section>
  );
}

function Details({ campaign: c }: { campaign: Campaign }) {
  const actorName = useActorName();
  const settings = c.settings as {
    from?: string;
    replyTo?: string | null;
    company?: string | null;
    vendor?: string | null;
    contact?: string;
    localeDefault?: string;
    notExposed?: string[];
    senderDomains?: string[];
  };
  const filters = Object.entries(c.filters).filter(([, v]) => v.length > 0);
  return (
    <Card title="Details">
      <dl className="facts">
        <dt>Audience</dt>
        <dd>
          {c.audience}: <span className="muted">{AUDIENCE_HELP[c.audience]}</span>
        </dd>
        <dt>Filters</dt>
        <dd>{filters.length ? filters.map(([k, v]) => `${k}: ${v.join(", ")}`).join("; ") : "none"}</dd>
        <dt>From</dt>
        <dd className="wrap-anywhere">{settings.from ?? "–"}</dd>
        {settings.replyTo ? (
          <>
            <dt>Reply-to</dt>
            <dd className="wrap-anywhere">{settings.replyTo}</dd>
          </>
        ) : null}
        <dt>Company</dt>
        <dd>{settings.company ?? "–"}</dd>
        <dt>Vendor</dt>
        <dd>{settings.vendor ?? "–"}</dd>
        <dt>Contact</dt>
        <dd className="wrap-anywhere">{settings.contact ?? "–"}</dd>
        <dt>Not exposed</dt>
        <dd>{settings.notExposed?.join(", ") || "–"}</dd>
        <dt>Sending domains</dt>
        <dd>{settings.senderDomains?.join(", ") || "–"}</dd>
        <dt>Created</dt>
        <dd>
          {formatDate(c.created_at)} by {actorName(c.created_by)}
        </dd>
        <dt>Approved</dt>
        <dd>{c.approved_by ? `${formatDate(c.approved_at)} by ${actorName(c.approved_by)}` : "not yet"}</dd>
        <dt>Finished</dt>
        <dd>{formatDate(c.finished_at)}</dd>
      </dl>
    </Card>
  );
}

function ApproveAndSend({
  status,
  incidentId,
  sendQueued,
  onQueued,
}: {
  status: Status;
  incidentId: string;
  sendQueued: boolean;
  onQueued: () => void;
}) {
  const { user, can } = useSession();
  const client = useQueryClient();
  const c = status.campaign;
  const refresh = async () => {
    await client.invalidateQueries({ queryKey: ["campaign", c.id] });
    await client.invalidateQueries({ queryKey: ["incident", incidentId, "campaigns"] });
  };
  const approve = useMutation({
    mutationFn: () => api.post<Campaign>(`${campaignPath(c.id)}/approve`),
    onSuccess: refresh,
  });
  const send = useMutation({
    mutationFn: () => api.post<{ campaign: Campaign; job_id: string }>(`${campaignPath(c.id)}/send`),
    onSuccess: async () => {
      onQueued();
      await refresh();
    },
  });
  const actorName = useActorName();
  const author = isAuthor(c, user.id);
  const mayAct = can("responder");
  return (
    <Card title="Approval and sending">
      {c.status === "draft" ? (
        <>
          <p>
            A draft. Before anything is sent, a second person (a responder or admin who did not create it)
            reads the preview and approves it.
          </p>
          {!mayAct ? (
            <p className="muted">Responders and admins approve campaigns.</p>
          ) : author ? (
            <p className="notice" role="status">
              You created this campaign, so you cannot approve it: a second person must approve it.
            </p>
          ) : (
            <button
              type="button"
              className="primary"
              disabled={approve.isPending}
              onClick={() => approve.mutate()}
            >
              Approve campaign
            </button>
          )}
          <ErrorMessage error={approve.error} />
        </>
      ) : (
        <p>
          Approved {formatDate(c.approved_at)} by {actorName(c.approved_by)}.
        </p>
      )}
      {c.status === "approved" ? (
        mayAct ? (
          <>
            <p>
              Sending queues a job that sends to each of the {formatNumber(c.recipients)} recipients, through
              the server's SMTP relay if it has one, otherwise into the built-in outbox.
            </p>
            {sendQueued ? (
              <p role="status">Sending is queued: waiting for a worker to start it…</p>
            ) : (
              <button
                type="button"
                className="primary"
                disabled={send.isPending}
                onClick={() => send.mutate()}
              >
                Send campaign
              </button>
            )}
          </>
        ) : (
          <p className="muted">Responders and admins send campaigns.</p>
        )
      ) : null}
      {c.status === "sending" ? (
        <>
          <p role="status">
            Sending: {formatNumber(status.counts.pending)} of {formatNumber(status.counts.total)} still owed.
          </p>
          {mayAct ? (
            <p className="muted">
              If the sending stopped (e.g. the server restarted),{" "}
              <button type="button" disabled={send.isPending} onClick={() => send.mutate()}>
                Resume sending
              </button>
            </p>
          ) : null}
        </>
      ) : null}
      {c.status === "done" ? <p>Finished {formatDate(c.finished_at)}.</p> : null}
      <ErrorMessage error={send.error} />
    </Card>
  );
}

function PreviewCard({ cid }: { cid: string }) {
  const uid = useId();
  const first = useQuery({
    queryKey: ["campaign", cid, "recipients", "", 0],
    queryFn: () =>
      api.get<{ items: Delivery[] }>(
        `${campaignPath(cid)}/recipients${query({ offset: 0, limit: LEDGER_PAGE })}`,
      ),
  });
  const [email, setEmail] = useState("");
  // what is typed, until it is committed (Enter or leaving the field); null: not touched yet
  const [draft, setDraft] = useState<string | null>(null);
  const [locale, setLocale] = useState("");
  const recipients = first.data?.items ?? [];
  const chosen = email || recipients[0]?.email || "";
  const recipient = recipients.find((r) => r.email === chosen);
  const preview = useQuery({
    queryKey: ["campaign", cid, "preview", chosen, locale],
    queryFn: () => api.get<Preview>(`${campaignPath(cid)}/preview${query({ email: chosen, locale })}`),
    enabled: !!chosen,
    placeholderData: keepPreviousData,
    staleTime: 60_000,
  });
  const p = preview.data;
  return (
    <section className="card" aria-labelledby={`${uid}-title`}>
      <h3 id={`${uid}-title`}>Preview</h3>
      <p className="muted">The message a recipient gets, in their language or another one.</p>
      <ErrorMessage error={first.error} />
      {!first.data ? (
        first.error ? null : (
          <Loading what="Loading the recipients" />
        )
      ) : recipients.length === 0 ? (
        <p>This campaign has no recipient.</p>
      ) : (
        <>
          <div className="form-grid">
            <Field label="Recipient" hint="Any recipient's address; the first ledger page is suggested">
              {(id) => (
                <>
                  <input
                    id={id}
                    type="email"
                    list={`${uid}-recipients`}
                    value={draft ?? chosen}
                    onChange={(e) => setDraft(e.target.value)}
                    onBlur={() => draft !== null && setEmail(draft.trim())}
                    onKeyDown={(e) => {
                      if (e.key === "Enter" && draft !== null) {
                        e.preventDefault();
                        setEmail(draft.trim());
                      }
                    }}
                  />
                  <datalist id={`${uid}-recipients`}>
                    {recipients.map((r) => (
                      <option key={r.ordinal} value={r.email}>
                        {r.locale ?? ""}
                      </option>
                    ))}
                  </datalist>
                </>
              )}
            </Field>
            <Field label="Language">
              {(id) => (
                <select id={id} value={locale} onChange={(e) => setLocale(e.target.value)}>
                  <option value="">The recipient's ({recipient?.locale ?? "default"})</option>
                  {LOCALES.map(([code, name]) => (
                    <option key={code} value={code}>
                      {name} ({code})
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <ErrorMessage error={preview.error} />
          {!p ? (
            preview.error ? null : (
              <Loading what="Rendering the message" />
            )
          ) : (
            <div className="preview" aria-busy={preview.isFetching}>
              <dl className="facts">
                <dt>Subject</dt>
                <dd data-testid="preview-subject">{p.subject}</dd>
                <dt>From</dt>
                <dd className="wrap-anywhere">{p.from}</dd>
                <dt>To</dt>
                <dd className="wrap-anywhere">{p.to}</dd>
                <dt>Language</dt>
                <dd>{p.locale}</dd>
                <dt>Message-ID</dt>
                <dd className="wrap-anywhere">
                  <code>{p.message_id}</code>
                </dd>
              </dl>
              <div className="grid-2">
                <div>
                  <h4>Text part</h4>
                  <pre data-testid="preview-text">{p.text}</pre>
                </div>
                <div>
                  <h4>HTML part</h4>
                  {/* its own document, under its own policy: the message's styles apply, nothing runs */}
                  <iframe
                    className="preview"
                    sandbox=""
                    src={`${API}${campaignPath(cid)}/preview.html${query({ email: chosen, locale })}`}
                    title="HTML preview"
                  />
                </div>
              </div>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function Ledger({ cid, status }: { cid: string; status: Status }) {
  const uid = useId();
  const [state, setState] = useState<DeliveryState | "">("");
  const [offset, setOffset] = useState(0);
  const sending = status.campaign.status === "sending";
  const page = useQuery({
    queryKey: ["campaign", cid, "recipients", state, offset],
    queryFn: () =>
      api.get<{ items: Delivery[]; offset: number; limit: number }>(
        `${campaignPath(cid)}/recipients${query({ offset, limit: LEDGER_PAGE, state: state || undefined })}`,
      ),
    placeholderData: keepPreviousData,
    refetchInterval: sending ? 2000 : false,
  });
  // the last page fetched while sending may predate the end: read it again once the status changes
  const client = useQueryClient();
  const campaignStatus = status.campaign.status;
  useEffect(() => {
    if (campaignStatus === "done")
      void client.invalidateQueries({ queryKey: ["campaign", cid, "recipients"] });
  }, [campaignStatus, cid, client]);
  const counts = status.counts;
  const totalOf: Record<string, number | null> = {
    "": counts.total,
    sent: counts.sent,
    failed: counts.failed,
    bounced: counts.bounced,
    suppressed: counts.suppressed,
    queued: null,
    sending: null,
  };
  const items = page.data?.items ?? [];
  const known = totalOf[state] ?? null;
  // queued and sending share the "pending" count: their end shows when a page comes back short
  const total = known ?? (page.data && items.length < LEDGER_PAGE ? offset + items.length : null);
  return (
    <section className="card" aria-labelledby={`${uid}-title`}>
      <h3 id={`${uid}-title`}>Delivery ledger</h3>
      <div className="ledger-filter">
        <Field label="State">
          {(id) => (
            <select
              id={id}
              value={state}
              onChange={(e) => {
                setState(e.target.value as DeliveryState | "");
                setOffset(0);
              }}
            >
              <option value="">All ({formatNumber(counts.total)})</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {s}
                  {totalOf[s] != null ? ` (${formatNumber(totalOf[s])})` : ""}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <ErrorMessage error={page.error} />
      {!page.data ? (
        page.error ? null : (
          <Loading what="Loading the ledger" />
        )
      ) : items.length === 0 ? (
        <p>No delivery {state ? `is ${state}` : "yet"}.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col" className="num">
                    #
                  </th>
                  <th scope="col">Email</th>
                  <th scope="col">Name</th>
                  <th scope="col">Language</th>
                  <th scope="col">State</th>
                  <th scope="col" className="num">
                    Attempts
                  </th>
                  <th scope="col">SMTP reply</th>
                  <th scope="col">Sent at</th>
                  <th scope="col">Message</th>
                </tr>
              </thead>
              <tbody>
                {items.map((d) => (
                  <tr key={d.ordinal}>
                    <td className="num">{d.ordinal}</td>
                    <td>{d.email}</td>
                    <td>{d.name ?? "–"}</td>
                    <td>{d.locale ?? "–"}</td>
                    <td>
                      <StatusBadge status={d.state} />
                    </td>
                    <td className="num">{d.attempts}</td>
                    <td className="smtp-reply">{d.reply ?? "–"}</td>
                    <td className="nowrap">{formatDate(d.sent_at)}</td>
                    <td>
                      {d.state === "sent" ? (
                        <a
                          href={`${API}${campaignPath(cid)}/outbox${query({ email: d.email })}`}
                          download={`${cid}-${d.ordinal}.eml`}
                          aria-label={`Download the message to ${d.email} (.eml, outbox only)`}
                        >
                          .eml
                        </a>
                      ) : (
                        "–"
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} limit={LEDGER_PAGE} total={total} onChange={setOffset} />
          <p className="muted">
            “.eml” downloads the copy held by the built-in outbox (when the server sends without SMTP).
          </p>
        </>
      )}
    </section>
  );
}
