import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, setCsrfToken } from "../api/client.ts";
import type { TotpEnrollment, User } from "../api/types.ts";
import { ErrorMessage, Field, NewPasswordField } from "../layout/ui.tsx";
import { TotpSetup } from "./totp-setup.tsx";

/**
 * First run: the first admin is created with the one-time code the server printed at start-up,
 * then signs in and sets up the second factor admins must have.
 */
export function SetupPage() {
  const client = useQueryClient();
  const [code, setCode] = useState("");
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [enrollment, setEnrollment] = useState<TotpEnrollment | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api.post<{ user: User; totp: TotpEnrollment }>("/bootstrap", {
        code: code.trim(),
        email,
        password,
        ...(name ? { display_name: name } : {}),
      });
      setEnrollment(created.totp);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  // The first admin has the second factor from the start: the first sign-in proves the app has it.
  const signIn = async (totp: string) => {
    const session = await api.post<{ csrf_token: string }>("/session", { email, password, totp });
    setCsrfToken(session.csrf_token);
  };
  const finish = async () => {
    await client.invalidateQueries({ queryKey: ["health"] });
    await client.invalidateQueries({ queryKey: ["me"] });
  };

  if (enrollment) {
    return (
      <main className="centered">
        <section className="card auth-card">
          <h1>Set up your second factor</h1>
          <p>
            Admins sign in with a code from an authenticator app. Scan the code or type the key, then enter
            the code it shows to sign in.
          </p>
          <TotpSetup enrollment={enrollment} onDone={finish} confirm={signIn} submitLabel="Sign in" />
        </section>
      </main>
    );
  }

  return (
    <main className="centered">
      <form className="card auth-card" onSubmit={submit} aria-labelledby="setup-title">
        <h1 id="setup-title">Create the first admin</h1>
        <p className="muted">
          The server printed a one-time set-up code when it started. Only whoever can read the server's output
          can create this account.
        </p>
        <Field label="Set-up code">
          {(id) => (
            <input
              id={id}
              required
              autoComplete="off"
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          )}
        </Field>
        <Field label="Your name">
          {(id) => (
            <input id={id} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        <Field label="Email">
          {(id) => (
            <input
              id={id}
              type="email"
              required
              autoComplete="username"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        <NewPasswordField
          label="Password"
          hint="At least 12 characters"
          value={password}
          onChange={setPassword}
        />
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Creating…" : "Create admin"}
        </button>
      </form>
    </main>
  );
}
