import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { API, ApiError } from "../api/client.ts";
import { ErrorMessage, Field } from "../layout/ui.tsx";
import "./verify.css";

/**
 * "Is this message really from us?": a public page, no sign-in. A person pastes a message's source
 * or picks its .eml file, and reads the verdict in plain words. The message goes to the server once,
 * is checked, and is not kept.
 */

type Verdict = "authentic" | "suspicious" | "phishing";

type EmailVerdict = {
  verdict: Verdict;
  summary: string;
  reasons: { code: string; severity: "suspicious" | "phishing"; message: string }[];
  from: { name: string; address: string; domain: string } | null;
  auth: {
    dkim: {
      result: string;
      signatures: {
        domain: string;
        selector: string | null;
        result: string;
        aligned: boolean;
        comment: string | null;
      }[];
    };
    spf: { result: string; domain: string | null; client_ip: string | null; comment: string | null };
    dmarc: { result: string; domain: string | null; policy: string | null; comment: string | null };
    arc: { result: string; comment: string | null };
  };
};

/** The server's limit (VERIFY_BODY_LIMIT): said here too, so a big file is refused before it is sent. */
const MAX_BYTES = 2 * 1024 * 1024;

const HEADLINE: Record<Verdict, string> = {
  authentic: "Authentic: this message is from us",
  suspicious: "Suspicious: we cannot confirm this message is from us",
  phishing: "Phishing: do not trust this message",
};

/**
 * Sent without cookies: the check is public, and a staff member's session would make the server ask
 * for the CSRF token that this page does not have.
 */
async function checkMessage(body: Blob | string): Promise<EmailVerdict> {
  const size = typeof body === "string" ? new Blob([body]).size : body.size;
  if (size > MAX_BYTES) {
    throw new ApiError(
      413,
      "TOO_LARGE",
      "The message is larger than 2 MB. Leave out its attachments and try again.",
    );
  }
  const response = await fetch(`${API}/verify-email`, {
    method: "POST",
    headers: { "content-type": "message/rfc822", accept: "application/json" },
    body,
    credentials: "omit",
  });
  const parsed = (await response.json().catch(() => null)) as
    | (EmailVerdict & { error?: { code?: string; message?: string } })
    | null;
  if (!response.ok || !parsed) {
    throw new ApiError(
      response.status,
      parsed?.error?.code ?? `HTTP_${response.status}`,
      response.status === 429
        ? "Too many checks from your address. Wait a minute and try again."
        : (parsed?.error?.message ?? `The check failed (${response.status}).`),
    );
  }
  return parsed;
}

function dkimText(auth: EmailVerdict["auth"]): string {
  if (auth.dkim.signatures.length === 0) return "none: the message is not signed";
  return auth.dkim.signatures
    .map(
      (s) =>
        `${s.result} for ${s.domain}${s.aligned ? "" : " (not the sender's domain)"}${s.comment ? `: ${s.comment}` : ""}`,
    )
    .join("; ");
}

function Checks({ auth }: { auth: EmailVerdict["auth"] }) {
  const rows: [string, string, string][] = [
    ["DKIM", "the sender's digital signature", dkimText(auth)],
    [
      "SPF",
      "the server that delivered it may send for the sender",
      `${auth.spf.result}${auth.spf.client_ip ? ` (${auth.spf.client_ip} for ${auth.spf.domain ?? "?"})` : auth.spf.comment ? `: ${auth.spf.comment}` : ""}`,
    ],
    [
      "DMARC",
      "the sender's domain vouches for the message",
      `${auth.dmarc.result}${auth.dmarc.domain ? ` for ${auth.dmarc.domain}` : ""}${auth.dmarc.policy ? ` (policy: ${auth.dmarc.policy})` : ""}`,
    ],
    [
      "ARC",
      "the record of servers that forwarded it",
      `${auth.arc.result}${auth.arc.comment ? `: ${auth.arc.comment}` : ""}`,
    ],
  ];
  return (
    <table className="verify-checks">
      <caption>Authentication results</caption>
      <thead>
        <tr>
          <th scope="col">Check</th>
          <th scope="col">What it tells</th>
          <th scope="col">Result</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, what, result]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td>{what}</td>
            <td className={`verify-result verify-result-${result.split(/[\s:(]/)[0]}`}>{result}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Result({ result }: { result: EmailVerdict }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // the verdict is below the form: bring it into view (on a phone it is a screen away) and read it out
  useEffect(() => {
    heading.current?.scrollIntoView({ block: "start" });
    heading.current?.focus();
  }, []);
  return (
    <section
      className={`card verify-verdict verify-${result.verdict}`}
      aria-labelledby="verify-verdict-title"
    >
      <h2 id="verify-verdict-title" ref={heading} tabIndex={-1}>
        {HEADLINE[result.verdict]}
      </h2>
      <p className="verify-summary">{result.summary}</p>
      {result.from ? (
        <p>
          Sender: {result.from.name ? `${result.from.name} ` : ""}
          <code>&lt;{result.from.address}&gt;</code>
        </p>
      ) : null}
      {result.reasons.length > 0 ? (
        <>
          <h3>Why</h3>
          <ul className="verify-reasons">
            {result.reasons.map((r) => (
              <li key={`${r.code}:${r.message}`} className={`verify-reason verify-reason-${r.severity}`}>
                <span className="verify-severity">{r.severity === "phishing" ? "Danger" : "Warning"}</span>{" "}
                {r.message}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <Checks auth={result.auth} />
    </section>
  );
}

export function VerifyPage() {
  const [text, setText] = useState("");
  const [file, setFile] = useState<File | null>(null);
  // a new key empties the file input (its value cannot be set)
  const [fileKey, setFileKey] = useState(0);
  const fileInput = useId();
  const check = useMutation({ mutationFn: checkMessage });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = file ?? text;
    if (body === "") return;
    check.mutate(body);
  };

  return (
    <main className="verify-page">
      <header className="verify-header">
        <h1>Is this message really from us?</h1>
        <p>
          Received an email that claims to come from us? Paste its full source below, or choose the saved
          message file, and we check its signatures, its sender and its links. Nothing you send is kept.
        </p>
      </header>
      <details className="card verify-help">
        <summary>How do I get the message source?</summary>
        <ul>
          <li>Gmail: open the message, the ⋮ menu, “Show original”, then “Copy to clipboard”.</li>
          <li>Outlook: open the message, “…”, “View”, “View message source”.</li>
          <li>Apple Mail: “View”, “Message”, “Raw Source”.</li>
          <li>Thunderbird: “View”, “Message Source” (or save the message as an .eml file).</li>
        </ul>
      </details>
      <form className="card" onSubmit={submit} aria-label="Check a message">
        <Field
          label="Message source"
          hint="All of it: the header lines (From:, Received:, DKIM-Signature: …) and the text."
        >
          {(id) => (
            <textarea
              id={id}
              className="verify-source"
              rows={12}
              spellCheck={false}
              autoComplete="off"
              value={text}
              disabled={file !== null}
              onChange={(e) => setText(e.target.value)}
            />
          )}
        </Field>
        <div className="field">
          <label htmlFor={fileInput}>Or choose a saved message (.eml)</label>
          <input
            key={fileKey}
            id={fileInput}
            type="file"
            accept=".eml,message/rfc822"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        </div>
        <div className="actions">
          <button
            type="submit"
            className="primary"
            disabled={check.isPending || (file === null && text.trim() === "")}
          >
            {check.isPending ? "Checking…" : "Check the message"}
          </button>
          {text !== "" || file !== null ? (
            <button
              type="button"
              onClick={() => {
                setText("");
                setFile(null);
                setFileKey((k) => k + 1);
                check.reset();
              }}
            >
              Clear
            </button>
          ) : null}
        </div>
        <ErrorMessage error={check.error} />
      </form>
      <div aria-live="polite">
        {check.data ? <Result key={check.submittedAt} result={check.data} /> : null}
      </div>
      <p className="muted verify-footer">
        Staff: <Link to="/">sign in</Link>.
      </p>
    </main>
  );
}
