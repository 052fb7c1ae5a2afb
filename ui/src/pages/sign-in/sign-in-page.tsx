/** Sign in with an API key: the key is exchanged for a session cookie and not kept by the browser. */
import { type FormEvent, useState } from "react";
import { type Session, signIn } from "../../api/session.js";

export function SignInPage({ reason, onSignedIn }: { reason?: string; onSignedIn: (s: Session) => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const key = String(new FormData(e.currentTarget).get("apiKey") ?? "").trim();
    if (!key) return setError("Paste an API key (it starts with tt_).");
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await signIn(key));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="sign-in">
      <h1>Traintrack</h1>
      {reason ? <p className="notice">{reason}</p> : null}
      <form onSubmit={submit}>
        <label>
          API key
          <input name="apiKey" type="password" autoComplete="off" placeholder="tt_…" autoFocus />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
      <p className="muted">
        An owner creates keys under Admin → API keys, or with <code>traintrack keys create</code>. The server logs the first owner's key on its first
        start.
      </p>
    </div>
  );
}
