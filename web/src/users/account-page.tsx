import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../api/client.ts";
import type { ApiToken, TotpEnrollment } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { TotpSetup } from "../auth/totp-setup.tsx";
import {
  Card,
  ErrorMessage,
  Field,
  formatDate,
  Loading,
  NewPasswordField,
  Notice,
  PageHeader,
} from "../layout/ui.tsx";
import { ROLE_HELP, useUsers } from "./users-page.tsx";

/** The signed-in user: who they are, their password, second factor and API tokens. */
export function AccountPage() {
  const { user } = useSession();
  return (
    <section>
      <PageHeader title="Account" />
      <Card title="Who you are">
        <dl className="facts">
          <dt>Email</dt>
          <dd className="wrap-anywhere">{user.email}</dd>
          <dt>Name</dt>
          <dd>{user.display_name ?? "–"}</dd>
          <dt>Role</dt>
          <dd>
            {user.role} <span className="muted">({ROLE_HELP[user.role]})</span>
          </dd>
          <dt>Second factor</dt>
          <dd>{user.totp_enabled ? "on" : "off"}</dd>
          <dt>Account since</dt>
          <dd>{formatDate(user.created_at)}</dd>
        </dl>
      </Card>
      <div className="grid-2">
        <ChangePassword />
        <SecondFactor />
      </div>
      <ApiTokens />
    </section>
  );
}

function ChangePassword() {
  const { user } = useSession();
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState(false);
  const change = useMutation({
    mutationFn: () => {
      if (password !== again) throw new Error("The two passwords differ: type the same one twice.");
      return api.post("/me/password", { password });
    },
    onSuccess: () => {
      setPassword("");
      setAgain("");
      setDone(true);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    change.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      {/* for password managers: which account the new password belongs to */}
      <input type="email" hidden readOnly autoComplete="username" value={user.email} />
      <NewPasswordField
        label="New password"
        hint="At least 12 characters; a passphrase is easiest"
        value={password}
        onChange={setPassword}
      />
      <NewPasswordField label="New password again" value={again} onChange={setAgain} />
      <ErrorMessage error={change.error} />
      {done ? <Notice>Password changed.</Notice> : null}
      <button type="submit" className="primary" disabled={change.isPending}>
        Change password
      </button>
    </form>
  );
}

function SecondFactor() {
  const { user, refresh } = useSession();
  const [enrollment, setEnrollment] = useState<TotpEnrollment | null>(null);
  const start = useMutation({
    mutationFn: () => api.post<TotpEnrollment>("/me/totp"),
    onSuccess: setEnrollment,
  });
  return (
    <Card title="Second factor">
      {user.totp_enabled ? (
        <p>
          <span className="badge badge-ok">on</span> You sign in with a code from your authenticator app.
        </p>
      ) : enrollment ? (
        <>
          <p>Scan the QR code with your authenticator app (or type the key), then enter the code it shows.</p>
          <TotpSetup
            enrollment={enrollment}
            onDone={async () => {
              setEnrollment(null);
              await refresh();
            }}
          />
        </>
      ) : (
        <>
          <p>
            Not set up. A code from an authenticator app protects your account if your password leaks; admins
            must use one.
          </p>
          <ErrorMessage error={start.error} />
          <button type="button" className="primary" disabled={start.isPending} onClick={() => start.mutate()}>
            Set up a second factor
          </button>
        </>
      )}
    </Card>
  );
}

function ApiTokens() {
  const { user, can } = useSession();
  const client = useQueryClient();
  const tokens = useQuery({ queryKey: ["tokens"], queryFn: () => api.get<ApiToken[]>("/tokens") });
  const users = useUsers(can("admin"));
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  const [shown, setShown] = useState<{ name: string; token: string } | null>(null);
  const create = useMutation({
    mutationFn: () =>
      api.post<{ token: string; api_token: ApiToken }>("/tokens", {
        name: name.trim(),
        ...(days ? { expires_in_days: Number(days) } : {}),
      }),
    onSuccess: async (r) => {
      setShown({ name: r.api_token.name, token: r.token });
      setName("");
      await client.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const revoke = useMutation({
    mutationFn: (t: ApiToken) => api.delete(`/tokens/${t.id}`),
    onSuccess: () => client.invalidateQueries({ queryKey: ["tokens"] }),
  });
  const owner = (id: string) =>
    id === user.id ? "you" : (users.data?.find((u) => u.id === id)?.email ?? id.slice(0, 8));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setShown(null);
    create.mutate();
  };
  return (
    <Card title="API tokens">
      <p className="muted">
        For scripts: a token acts with your role, sent as <code>Authorization: Bearer brt_…</code>.
        {can("admin") ? " As an admin you see everyone's tokens and can revoke any." : ""}
      </p>
      <form onSubmit={submit} aria-label="New API token" className="form-grid">
        <Field label="Token name" hint="What it is for, e.g. ci">
          {(id) => (
            <input id={id} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        <Field label="Expires after (days)" hint="Empty: never">
          {(id) => (
            <input
              id={id}
              type="number"
              min={1}
              max={3650}
              value={days}
              onChange={(e) => setDays(e.target.value)}
            />
          )}
        </Field>
        <ErrorMessage error={create.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            Create token
          </button>
        </div>
      </form>
      {shown ? (
        <div className="notice token-once" role="status">
          <p>
            Token <strong>{shown.name}</strong> created. Copy it now: it is not shown again.
          </p>
          <code data-testid="new-api-token" className="wrap-anywhere">
            {shown.token}
          </code>
          <div className="actions">
            <button type="button" onClick={() => navigator.clipboard?.writeText(shown.token)}>
              Copy token
            </button>
            <button type="button" onClick={() => setShown(null)}>
              Hide token
            </button>
          </div>
        </div>
      ) : null}
      <ErrorMessage error={tokens.error} />
      <ErrorMessage error={revoke.error} />
      {!tokens.data ? (
        <Loading />
      ) : tokens.data.length === 0 ? (
        <p>No API token.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Starts with</th>
                {can("admin") ? <th scope="col">Owner</th> : null}
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => {
                const expired = t.expires_at !== null && new Date(t.expires_at).getTime() < Date.now();
                return (
                  <tr key={t.id}>
                    <td>{t.name}</td>
                    <td>
                      <code>{t.prefix}…</code>
                    </td>
                    {can("admin") ? <td className="wrap-anywhere">{owner(t.user_id)}</td> : null}
                    <td>{formatDate(t.created_at)}</td>
                    <td>{formatDate(t.last_used_at)}</td>
                    <td>{t.expires_at ? formatDate(t.expires_at) : "never"}</td>
                    <td>
                      {t.revoked ? (
                        <span className="badge">revoked</span>
                      ) : expired ? (
                        <span className="badge">expired</span>
                      ) : (
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Revoke token ${t.name}`}
                          disabled={revoke.isPending}
                          onClick={() => revoke.mutate(t)}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
