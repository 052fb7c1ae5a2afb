/**
 * The one time a key's secret is shown: a modal with a copy button and a
 * warning. Closing it forgets the secret (the caller resets the mutation
 * that held it), so it cannot be shown again: the server keeps only a hash.
 */
import { useEffect, useRef, useState } from "react";

export function SecretDialog({ name, secret, onClose }: { name: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState<"" | "yes" | "no">("");
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.select(), []);
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="secret-title">
        <h2 id="secret-title">API key “{name}” created</h2>
        <p className="warning" role="note">
          Copy the secret now: it is shown only this once. Traintrack keeps only its hash, so nobody can show it again. If it is lost, revoke the key
          and create a new one.
        </p>
        <div className="secret-row">
          <input ref={field} readOnly value={secret} aria-label="Secret" className="secret" onFocus={(e) => e.target.select()} />
          <button
            type="button"
            className="primary"
            onClick={() => {
              // The clipboard may be refused (no permission, not a secure context): then the field is selected to copy by hand.
              navigator.clipboard?.writeText(secret).then(
                () => setCopied("yes"),
                () => {
                  field.current?.select();
                  setCopied("no");
                },
              ) ?? setCopied("no");
            }}
          >
            Copy
          </button>
        </div>
        {copied === "yes" ? <div className="muted">Copied to the clipboard.</div> : null}
        {copied === "no" ? <div className="muted">The browser refused the clipboard: the secret is selected, copy it with Ctrl+C.</div> : null}
        <p className="muted">
          Use it as <code>authorization: Bearer &lt;secret&gt;</code>, or <code>tt.Client(api_key=…)</code> in Python.
        </p>
        <div className="modal-actions">
          <button type="button" onClick={onClose}>
            I have copied it — close
          </button>
        </div>
      </div>
    </div>
  );
}
