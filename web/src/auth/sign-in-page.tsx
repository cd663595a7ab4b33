import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link } from "react-router-dom";
import { ApiError, api, setCsrfToken } from "../api/client.ts";
import type { User } from "../api/types.ts";
import { ErrorMessage, Field } from "../layout/ui.tsx";

/** Email, password and, for accounts with a second factor, the authenticator's code. */
export function SignInPage() {
  const client = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [needsCode, setNeedsCode] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ user: User; csrf_token: string }>("/session", {
        email,
        password,
        ...(totp ? { totp } : {}),
      });
      setCsrfToken(r.csrf_token);
      await client.invalidateQueries({ queryKey: ["me"] });
    } catch (err) {
      if (err instanceof ApiError && err.message.startsWith("totp:")) {
        setNeedsCode(true);
        setError(needsCode ? err : null);
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="centered">
      <form className="card auth-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to blastradius</h1>
        <Field label="Email">
          {(id) => (
            <input
              id={id}
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password">
          {(id) => (
            <input
              id={id}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        {needsCode ? (
          <Field label="Authenticator code" hint="The 6-digit code from your authenticator app">
            {(id) => (
              <input
                id={id}
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                required
                value={totp}
                onChange={(e) => setTotp(e.target.value.trim())}
              />
            )}
          </Field>
        ) : null}
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : needsCode ? "Verify and sign in" : "Sign in"}
        </button>
        <p className="muted">
          Received an email that claims to come from us?{" "}
          <Link to="/verify">Check whether it is genuine.</Link>
        </p>
      </form>
    </main>
  );
}
