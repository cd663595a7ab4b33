import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { toDataURL } from "qrcode";
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api/client.ts";
import { ROLES, type Role, type TotpEnrollment, type User } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import {
  ErrorMessage,
  Field,
  formatDate,
  Loading,
  NewPasswordField,
  Notice,
  PageHeader,
} from "../layout/ui.tsx";

export const ROLE_HELP: Record<Role, string> = {
  viewer: "reads incidents, clocks, counts and obligations",
  analyst: "also uploads datasets, runs analyses, reads affected people",
  responder: "also changes incidents and vendors, creates and approves campaigns",
  admin: "also manages accounts, the audit log and purges (needs a second factor)",
};

/** Every account (admins only): create, change role, disable or enable. */
export function UsersPage() {
  const { can } = useSession();
  if (!can("admin")) {
    return (
      <section>
        <PageHeader title="Users" />
        <p className="notice" role="status">
          Admins only: ask an admin to create or change accounts.
        </p>
      </section>
    );
  }
  return <UsersAdmin />;
}

export function useUsers(enabled = true) {
  return useQuery({ queryKey: ["users"], queryFn: () => api.get<User[]>("/users"), enabled });
}

function UsersAdmin() {
  const { user: me } = useSession();
  const users = useUsers();
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ user: User; totp?: TotpEnrollment } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const update = useMutation({
    mutationFn: (v: { user: User; role?: Role; disabled?: boolean }) =>
      api.patch<User>(`/users/${v.user.id}`, {
        ...(v.role ? { role: v.role } : {}),
        ...(v.disabled === undefined ? {} : { disabled: v.disabled }),
      }),
    onSuccess: async (u, v) => {
      setMessage(
        v.disabled === undefined
          ? `${u.email} is now ${u.role}.`
          : `${u.email} is ${u.disabled ? "disabled: its sessions and tokens ended" : "enabled"}.`,
      );
      await client.invalidateQueries({ queryKey: ["users"] });
    },
    onError: () => setMessage(null),
  });
  return (
    <section>
      <PageHeader title="Users">
        <button
          type="button"
          className="primary"
          aria-expanded={creating}
          onClick={() => {
            setCreating(!creating);
            setCreated(null);
          }}
        >
          New user
        </button>
      </PageHeader>
      {creating ? (
        <CreateUser
          onCreated={(r) => {
            setCreated(r);
            setCreating(false);
          }}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      {created ? <Created created={created} onClose={() => setCreated(null)} /> : null}
      <details className="card role-help">
        <summary>What each role can do</summary>
        <ul>
          {ROLES.map((r) => (
            <li key={r}>
              <strong>{r}</strong>: {ROLE_HELP[r]}
            </li>
          ))}
        </ul>
      </details>
      {message ? <Notice>{message}</Notice> : null}
      <ErrorMessage error={update.error} />
      <ErrorMessage error={users.error} />
      {!users.data ? (
        <Loading />
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Second factor</th>
                <th scope="col">Account</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <UserRow
                  key={u.id}
                  u={u}
                  self={u.id === me.id}
                  busy={update.isPending}
                  onRole={(role) => update.mutate({ user: u, role })}
                  onDisabled={(disabled) => update.mutate({ user: u, disabled })}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted">
        An account becomes admin only once its owner has set up a second factor (on their Account page).
      </p>
    </section>
  );
}

function UserRow({
  u,
  self,
  busy,
  onRole,
  onDisabled,
}: {
  u: User;
  self: boolean;
  busy: boolean;
  onRole: (role: Role) => void;
  onDisabled: (disabled: boolean) => void;
}) {
  const [role, setRole] = useState<Role>(u.role);
  const [was, setWas] = useState<Role>(u.role);
  // follow the server's answer (a refused change leaves the select where it was)
  if (was !== u.role) {
    setWas(u.role);
    setRole(u.role);
  }
  return (
    <tr>
      <td>{u.email}</td>
      <td>{u.display_name ?? "–"}</td>
      <td>
        {self ? (
          <span title="You cannot change your own role">{u.role}</span>
        ) : (
          <div className="actions nowrap">
            <select
              aria-label={`Role of ${u.email}`}
              value={role}
              onChange={(e) => setRole(e.target.value as Role)}
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            {role !== u.role ? (
              <button
                type="button"
                disabled={busy}
                onClick={() => onRole(role)}
                aria-label={`Change role of ${u.email}`}
              >
                Change role
              </button>
            ) : null}
          </div>
        )}
      </td>
      <td>
        <span className={`badge ${u.totp_enabled ? "badge-ok" : ""}`}>{u.totp_enabled ? "on" : "off"}</span>
      </td>
      <td>
        <div className="actions nowrap">
          {u.disabled ? <span className="badge badge-failed">disabled</span> : <span>active</span>}
          {self ? null : (
            <button
              type="button"
              className={u.disabled ? "" : "danger"}
              aria-label={`${u.disabled ? "Enable" : "Disable"} ${u.email}`}
              disabled={busy}
              onClick={() => onDisabled(!u.disabled)}
            >
              {u.disabled ? "Enable" : "Disable"}
            </button>
          )}
        </div>
      </td>
      <td>{formatDate(u.created_at)}</td>
    </tr>
  );
}

function CreateUser({
  onCreated,
  onCancel,
}: {
  onCreated: (r: { user: User; totp?: TotpEnrollment }) => void;
  onCancel: () => void;
}) {
  const client = useQueryClient();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("analyst");
  const [password, setPassword] = useState("");
  const create = useMutation({
    mutationFn: () =>
      api.post<{ user: User; totp?: TotpEnrollment }>("/users", {
        email: email.trim(),
        password,
        role,
        ...(name.trim() ? { display_name: name.trim() } : {}),
      }),
    onSuccess: async (r) => {
      await client.invalidateQueries({ queryKey: ["users"] });
      onCreated(r);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="card" onSubmit={submit} aria-label="New user">
      <h2>New user</h2>
      <div className="form-grid">
        <Field label="Email">
          {(id) => (
            <input
              id={id}
              type="email"
              required
              autoComplete="off"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        <Field label="Name">
          {(id) => <input id={id} maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Role" hint={ROLE_HELP[role]}>
          {(id) => (
            <select id={id} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          )}
        </Field>
        <NewPasswordField
          label="Initial password"
          hint="At least 12 characters; give it to the person privately"
          value={password}
          onChange={setPassword}
        />
      </div>
      <ErrorMessage error={create.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          Create user
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** After creating an account: an admin's second factor is shown this once, to pass on to its owner. */
function Created({
  created,
  onClose,
}: {
  created: { user: User; totp?: TotpEnrollment };
  onClose: () => void;
}) {
  const [qr, setQr] = useState<string | null>(null);
  const uri = created.totp?.otpauth_uri;
  useEffect(() => {
    if (uri) toDataURL(uri, { margin: 1, width: 200 }).then(setQr, () => setQr(null));
  }, [uri]);
  return (
    <section className="card" aria-labelledby="user-created-title">
      <h2 id="user-created-title">Account created: {created.user.email}</h2>
      <p role="status">
        {created.user.email} can now sign in as {created.user.role} with the initial password.
      </p>
      {created.totp ? (
        <div className="totp-setup">
          <p>
            Admins sign in with a second factor. Give {created.user.email} this key (or QR code) for their
            authenticator app: it is shown only now.
          </p>
          {qr ? (
            <img
              src={qr}
              width={200}
              height={200}
              alt={`QR code of the second factor for ${created.user.email}`}
            />
          ) : null}
          <p>
            Key: <code data-testid="new-user-totp-secret">{created.totp.secret}</code>
          </p>
        </div>
      ) : null}
      <button type="button" onClick={onClose}>
        Done
      </button>
    </section>
  );
}
