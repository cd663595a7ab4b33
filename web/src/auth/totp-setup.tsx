import { toDataURL } from "qrcode";
import { type FormEvent, useEffect, useState } from "react";
import { api } from "../api/client.ts";
import type { TotpEnrollment } from "../api/types.ts";
import { ErrorMessage, Field } from "../layout/ui.tsx";

const confirmEnrollment = async (code: string) => {
  await api.post("/me/totp/confirm", { code });
};

/**
 * The QR code is drawn in the browser: the secret never goes to a QR service. `confirm` checks the
 * first code (by default the signed-in user's enrollment; at first run, the first sign-in).
 */
export function TotpSetup({
  enrollment,
  onDone,
  confirm = confirmEnrollment,
  submitLabel = "Confirm",
}: {
  enrollment: TotpEnrollment;
  onDone: () => void;
  confirm?: (code: string) => Promise<void>;
  submitLabel?: string;
}) {
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    toDataURL(enrollment.otpauth_uri, { margin: 1, width: 200 }).then(setQr, () => setQr(null));
  }, [enrollment.otpauth_uri]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await confirm(code.trim());
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="totp-setup">
      {qr ? <img src={qr} width={200} height={200} alt="QR code for your authenticator app" /> : null}
      <p>
        Key: <code data-testid="totp-secret">{enrollment.secret}</code>
      </p>
      <Field label="Code from the app">
        {(id) => (
          <input
            id={id}
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]{6}"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        )}
      </Field>
      <ErrorMessage error={error} />
      <button type="submit" className="primary" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}
