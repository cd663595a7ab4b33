import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useState } from "react";
import { api } from "../api/client.ts";
import type { RiskTier, SubProcessor, Vendor, VendorStatus } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { ErrorMessage, Field, formatDate, formatNumber, Notice } from "../layout/ui.tsx";
import { useUsers } from "../users/users-page.tsx";
import {
  ACCESS_HELP,
  AccessAndPeopleFields,
  isPastDay,
  joinList,
  RISK_TIERS,
  splitLines,
  splitList,
  statusLabel,
  TierBadge,
  WebLink,
} from "./vendor-common.tsx";

/** The vendor's record: every field, and (for responders) a form that changes the fields edited. */
export function VendorProfile({ vendor }: { vendor: Vendor }) {
  const { can } = useSession();
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  return (
    <section id="profile" className="card vendor-section" aria-labelledby="profile-title">
      <div className="vendor-section-head">
        <h2 id="profile-title">Profile</h2>
        {can("responder") && !editing ? (
          <button
            type="button"
            onClick={() => {
              setEditing(true);
              setSaved(false);
            }}
          >
            Edit profile
          </button>
        ) : null}
      </div>
      {saved ? <Notice>Profile saved.</Notice> : null}
      {editing ? (
        <ProfileForm
          key={vendor.id}
          vendor={vendor}
          onDone={(changed) => {
            setEditing(false);
            setSaved(changed);
          }}
        />
      ) : (
        <ProfileFacts vendor={vendor} />
      )}
    </section>
  );
}

function ListOrDash({ items }: { items: readonly string[] }) {
  return items.length === 0 ? "–" : items.join(", ");
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function ProfileFacts({ vendor: v }: { vendor: Vendor }) {
  const overdue = isPastDay(v.next_review_at);
  return (
    <dl className="facts vendor-facts">
      <Fact label="What it does">
        {v.description ? <span className="description">{v.description}</span> : "–"}
      </Fact>
      <Fact label="Website">
        <WebLink url={v.website} />
      </Fact>
      <Fact label="Catalogue id">{v.catalogue_id ? <code>{v.catalogue_id}</code> : "–"}</Fact>
      <Fact label="Domains">
        <ListOrDash items={v.domains} />
      </Fact>
      <Fact label="Purposes">
        <ListOrDash items={v.purposes} />
      </Fact>
      <Fact label="Processing locations">
        <ListOrDash items={v.processing_locations} />
      </Fact>
      <Fact label="Sub-processors">
        {v.sub_processors.length === 0 ? (
          "–"
        ) : (
          <ul className="vendor-plain-list">
            {v.sub_processors.map((s) => (
              <li key={`${s.name}|${s.purpose ?? ""}|${s.location ?? ""}`}>
                {s.name}
                {s.purpose ? ` (${s.purpose})` : ""}
                {s.location ? `, ${s.location}` : ""}
              </li>
            ))}
          </ul>
        )}
      </Fact>
      <Fact label="Contract">{v.contract_ref ?? "–"}</Fact>
      <Fact label="DPA">{v.dpa_ref ?? "–"}</Fact>
      <Fact label="Certifications">
        <ListOrDash items={v.certifications} />
      </Fact>
      <Fact label="Incident contact">{v.incident_contact ?? "–"}</Fact>
      <Fact label="Breach notice">
        {v.breach_notice_hours ? `within ${v.breach_notice_hours} hours` : "–"}
      </Fact>
      <Fact label="Access">{v.access ? `${v.access}: ${ACCESS_HELP[v.access]}` : "–"}</Fact>
      <Fact label="People">{v.people_count === null ? "–" : formatNumber(v.people_count)}</Fact>
      <Fact label="Risk tier">
        <TierBadge tier={v.risk_tier} />{" "}
        <span className="muted">{v.risk_tier_override ? "set by hand" : "computed"}</span>
      </Fact>
      <Fact label="Requirement set">{v.requirement_set ?? "none (see Review)"}</Fact>
      <Fact label="Owner">
        {v.owner_email ? `${v.owner_name ? `${v.owner_name}, ` : ""}${v.owner_email}` : "–"}
      </Fact>
      <Fact label="Review every">{v.review_interval_days ? `${v.review_interval_days} days` : "–"}</Fact>
      <Fact label="Next review">
        {v.next_review_at ? (
          <span className={overdue ? "vendor-overdue" : ""}>
            {v.next_review_at}
            {overdue ? " (overdue)" : ""}
          </span>
        ) : (
          "–"
        )}
      </Fact>
      <Fact label="Last reviewed">{v.last_reviewed_at ? formatDate(v.last_reviewed_at) : "never"}</Fact>
      <Fact label="Status">{statusLabel(v.status)}</Fact>
      <Fact label="Notes">{v.notes ? <span className="description">{v.notes}</span> : "–"}</Fact>
      <Fact label="Added">{formatDate(v.created_at)}</Fact>
      <Fact label="Changed">{formatDate(v.updated_at)}</Fact>
    </dl>
  );
}

type SubRow = SubProcessor & { key: number };
let rowKey = 0;
const subRow = (s: Partial<SubProcessor> = {}): SubRow => ({
  key: ++rowKey,
  name: s.name ?? "",
  purpose: s.purpose ?? "",
  location: s.location ?? "",
});

const textOrNull = (s: string) => s.trim() || null;
const numberOrNull = (s: string) => (s.trim() === "" ? null : Number(s));
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function ProfileForm({ vendor: v, onDone }: { vendor: Vendor; onDone: (changed: boolean) => void }) {
  const { can } = useSession();
  const isAdmin = can("admin");
  const users = useUsers(isAdmin);
  const client = useQueryClient();
  const [name, setName] = useState(v.name);
  const [description, setDescription] = useState(v.description ?? "");
  const [website, setWebsite] = useState(v.website ?? "");
  const [catalogue, setCatalogue] = useState(v.catalogue_id ?? "");
  const [domains, setDomains] = useState(joinList(v.domains));
  const [purposes, setPurposes] = useState(joinList(v.purposes, "\n"));
  const [locations, setLocations] = useState(joinList(v.processing_locations));
  const [subs, setSubs] = useState<SubRow[]>(() => v.sub_processors.map((s) => subRow(s)));
  const [contract, setContract] = useState(v.contract_ref ?? "");
  const [dpa, setDpa] = useState(v.dpa_ref ?? "");
  const [certifications, setCertifications] = useState(joinList(v.certifications, "\n"));
  const [contact, setContact] = useState(v.incident_contact ?? "");
  const [noticeHours, setNoticeHours] = useState(v.breach_notice_hours?.toString() ?? "");
  const [access, setAccess] = useState<string>(v.access ?? "");
  const [people, setPeople] = useState(v.people_count?.toString() ?? "");
  const [override, setOverride] = useState<string>(v.risk_tier_override ?? "");
  const [ownerId, setOwnerId] = useState(v.owner_id ?? "");
  const [ownerEmail, setOwnerEmail] = useState(v.owner_email ?? "");
  const [interval, setReviewInterval] = useState(v.review_interval_days?.toString() ?? "");
  const [nextReview, setNextReview] = useState(v.next_review_at ?? "");
  const [status, setStatus] = useState<VendorStatus>(v.status);
  const [notes, setNotes] = useState(v.notes ?? "");

  // What the form says, field by field; only what differs from the record is sent.
  const changes = (): Record<string, unknown> => {
    const form: [string, unknown, unknown][] = [
      ["name", name.trim(), v.name],
      ["description", textOrNull(description), v.description],
      ["website", textOrNull(website), v.website],
      ["catalogue_id", textOrNull(catalogue), v.catalogue_id],
      ["domains", splitList(domains, /[\s,;]+/), v.domains],
      ["purposes", splitLines(purposes), v.purposes],
      ["processing_locations", splitList(locations, /[\s,;]+/), v.processing_locations],
      [
        "sub_processors",
        subs
          .filter((s) => s.name.trim() || s.purpose?.trim() || s.location?.trim())
          .map((s) => ({
            name: s.name.trim(),
            ...(s.purpose?.trim() ? { purpose: s.purpose.trim() } : {}),
            ...(s.location?.trim() ? { location: s.location.trim() } : {}),
          })),
        v.sub_processors,
      ],
      ["contract_ref", textOrNull(contract), v.contract_ref],
      ["dpa_ref", textOrNull(dpa), v.dpa_ref],
      ["certifications", splitLines(certifications), v.certifications],
      ["incident_contact", textOrNull(contact), v.incident_contact],
      ["breach_notice_hours", numberOrNull(noticeHours), v.breach_notice_hours],
      ["access", access || null, v.access],
      ["people_count", numberOrNull(people), v.people_count],
      // risk_tier sets the override; the effective tier is never sent back
      ["risk_tier", override || null, v.risk_tier_override],
      isAdmin
        ? ["owner_id", ownerId || null, v.owner_id]
        : ["owner_email", textOrNull(ownerEmail)?.toLowerCase() ?? null, v.owner_email?.toLowerCase()],
      ["review_interval_days", numberOrNull(interval), v.review_interval_days],
      ["next_review_at", nextReview || null, v.next_review_at],
      ["status", status, v.status],
      ["notes", textOrNull(notes), v.notes],
    ];
    return Object.fromEntries(form.filter(([, now, was]) => !same(now, was)).map(([k, now]) => [k, now]));
  };

  const save = useMutation({
    mutationFn: async () => {
      const body = changes();
      if (Object.keys(body).length === 0) return false;
      await api.patch<Vendor>(`/vendors/${v.id}`, body);
      return true;
    },
    onSuccess: async (changed) => {
      await client.invalidateQueries({ queryKey: ["vendors"] });
      onDone(changed);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const setSub = (key: number, patch: Partial<SubProcessor>) =>
    setSubs((rows) => rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  // The checklist (Offboarding below) starts offboarding: it also revokes open questionnaire links.
  const statuses: VendorStatus[] = ["active", "under_review"];
  if (!statuses.includes(v.status)) statuses.push(v.status);
  const computed = v.risk_tier_override
    ? /\(computed: ([a-z ]+)\)/.exec(v.risk_reason ?? "")?.[1]
    : (v.risk_tier ?? "not rated");

  return (
    <form onSubmit={submit} aria-label="Edit profile" className="vendor-form">
      <fieldset>
        <legend>What it is</legend>
        <div className="form-grid">
          <Field label="Name">
            {(id) => (
              <input
                id={id}
                required
                maxLength={200}
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
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
          <Field label="Catalogue id" hint="the scanner's id, e.g. mixpanel">
            {(id) => (
              <input
                id={id}
                maxLength={100}
                value={catalogue}
                onChange={(e) => setCatalogue(e.target.value)}
              />
            )}
          </Field>
          <Field label="Domains" hint="comma-separated, e.g. mixpanel.com, mxpnl.com">
            {(id) => <input id={id} value={domains} onChange={(e) => setDomains(e.target.value)} />}
          </Field>
        </div>
        <Field label="Description" hint="what it does for us">
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
        <div className="form-grid">
          <Field label="Purposes" hint="one per line">
            {(id) => (
              <textarea id={id} rows={3} value={purposes} onChange={(e) => setPurposes(e.target.value)} />
            )}
          </Field>
          <Field label="Processing locations" hint="country codes, e.g. US, DE">
            {(id) => <input id={id} value={locations} onChange={(e) => setLocations(e.target.value)} />}
          </Field>
        </div>
      </fieldset>

      <fieldset>
        <legend>Sub-processors</legend>
        {subs.length === 0 ? <p className="muted">None recorded.</p> : null}
        {subs.map((s, i) => (
          <div key={s.key} className="vendor-row">
            <Field label={`Sub-processor ${i + 1} name`}>
              {(id) => (
                <input
                  id={id}
                  maxLength={200}
                  value={s.name}
                  onChange={(e) => setSub(s.key, { name: e.target.value })}
                />
              )}
            </Field>
            <Field label={`Sub-processor ${i + 1} purpose`}>
              {(id) => (
                <input
                  id={id}
                  maxLength={500}
                  value={s.purpose}
                  onChange={(e) => setSub(s.key, { purpose: e.target.value })}
                />
              )}
            </Field>
            <Field label={`Sub-processor ${i + 1} location`}>
              {(id) => (
                <input
                  id={id}
                  maxLength={10}
                  className="vendor-country"
                  value={s.location}
                  onChange={(e) => setSub(s.key, { location: e.target.value })}
                />
              )}
            </Field>
            <button
              type="button"
              className="small vendor-row-remove"
              aria-label={`Remove sub-processor ${i + 1}`}
              onClick={() => setSubs((rows) => rows.filter((r) => r.key !== s.key))}
            >
              Remove
            </button>
          </div>
        ))}
        <button type="button" className="small" onClick={() => setSubs((rows) => [...rows, subRow()])}>
          Add sub-processor
        </button>
      </fieldset>

      <fieldset>
        <legend>Terms and contact</legend>
        <div className="form-grid">
          <Field label="Contract reference">
            {(id) => (
              <input id={id} maxLength={200} value={contract} onChange={(e) => setContract(e.target.value)} />
            )}
          </Field>
          <Field label="DPA reference">
            {(id) => <input id={id} maxLength={500} value={dpa} onChange={(e) => setDpa(e.target.value)} />}
          </Field>
          <Field label="Incident contact" hint="an email address, or an https:// link to their incident form">
            {(id) => (
              <input id={id} maxLength={500} value={contact} onChange={(e) => setContact(e.target.value)} />
            )}
          </Field>
          <Field label="Breach notice (hours)" hint="what the contract promises">
            {(id) => (
              <input
                id={id}
                type="number"
                min={1}
                step={1}
                value={noticeHours}
                onChange={(e) => setNoticeHours(e.target.value)}
              />
            )}
          </Field>
          <Field label="Certifications" hint="one per line">
            {(id) => (
              <textarea
                id={id}
                rows={2}
                value={certifications}
                onChange={(e) => setCertifications(e.target.value)}
              />
            )}
          </Field>
        </div>
      </fieldset>

      <fieldset>
        <legend>Risk and review</legend>
        <div className="form-grid">
          <AccessAndPeopleFields access={access} onAccess={setAccess} people={people} onPeople={setPeople} />
          <Field label="Risk tier" hint={`empty: computed (${computed ?? "see the reason"})`}>
            {(id) => (
              <select id={id} value={override} onChange={(e) => setOverride(e.target.value as RiskTier | "")}>
                <option value="">computed</option>
                {RISK_TIERS.map((t) => (
                  <option key={t} value={t}>
                    {t} (set by hand)
                  </option>
                ))}
              </select>
            )}
          </Field>
          {isAdmin ? (
            <Field label="Owner">
              {(id) => (
                <select id={id} value={ownerId} onChange={(e) => setOwnerId(e.target.value)}>
                  <option value="">(no owner)</option>
                  {v.owner_id && !users.data?.some((u) => u.id === v.owner_id) ? (
                    <option value={v.owner_id}>{v.owner_email ?? v.owner_id}</option>
                  ) : null}
                  {users.data
                    ?.filter((u) => !u.disabled || u.id === v.owner_id)
                    .map((u) => (
                      <option key={u.id} value={u.id}>
                        {u.display_name ? `${u.display_name} (${u.email})` : u.email}
                      </option>
                    ))}
                </select>
              )}
            </Field>
          ) : (
            <Field label="Owner" hint="an account's email">
              {(id) => (
                <input
                  id={id}
                  type="email"
                  maxLength={320}
                  value={ownerEmail}
                  onChange={(e) => setOwnerEmail(e.target.value)}
                />
              )}
            </Field>
          )}
          <Field label="Review every (days)">
            {(id) => (
              <input
                id={id}
                type="number"
                min={1}
                step={1}
                value={interval}
                onChange={(e) => setReviewInterval(e.target.value)}
              />
            )}
          </Field>
          <Field label="Next review">
            {(id) => (
              <input id={id} type="date" value={nextReview} onChange={(e) => setNextReview(e.target.value)} />
            )}
          </Field>
          <Field label="Status" hint="to offboard, use the checklist below">
            {(id) => (
              <select id={id} value={status} onChange={(e) => setStatus(e.target.value as VendorStatus)}>
                {statuses.map((s) => (
                  <option key={s} value={s}>
                    {statusLabel(s)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        {v.risk_reason ? <p className="muted vendor-small">Now: {v.risk_reason}</p> : null}
      </fieldset>
      <Field label="Notes">
        {(id) => (
          <textarea
            id={id}
            rows={3}
            maxLength={10_000}
            value={notes}
            onChange={(e) => setNotes(e.target.value)}
          />
        )}
      </Field>
      <ErrorMessage error={users.error} />
      <ErrorMessage error={save.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          Save profile
        </button>
        <button type="button" onClick={() => onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
