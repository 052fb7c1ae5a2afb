/** Which params, tags and latest metrics the runs table shows: a checklist of the keys the loaded runs have. */
import { useEffect, useRef, useState } from "react";
import { KINDS, type KeyKind } from "./run-columns.js";

const TITLES: Record<KeyKind, string> = { metrics: "Metrics (latest)", params: "Params", tags: "Tags" };

export function ColumnPicker({ keys, chosen, onChange }: { keys: Record<KeyKind, string[]>; chosen: readonly string[]; onChange: (next: string[]) => void }) {
  const [find, setFind] = useState("");
  const total = KINDS.reduce((n, k) => n + keys[k].length, 0);
  const toggle = (id: string) => onChange(chosen.includes(id) ? chosen.filter((c) => c !== id) : [...chosen, id]);
  const needle = find.toLowerCase();
  const details = useRef<HTMLDetailsElement>(null);
  // A click elsewhere or Escape closes the list, as a menu would.
  useEffect(() => {
    const close = (e: Event) => {
      const el = details.current;
      if (!el?.open) return;
      if (e instanceof KeyboardEvent ? e.key === "Escape" : !el.contains(e.target as Node)) el.open = false;
    };
    document.addEventListener("mousedown", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("mousedown", close);
      document.removeEventListener("keydown", close);
    };
  }, []);
  return (
    <details className="column-picker" ref={details}>
      <summary>
        Columns {chosen.length ? `(${chosen.length} chosen)` : ""}
      </summary>
      <div className="picker-panel" role="group" aria-label="Columns">
        {total === 0 ? (
          <p className="muted">These runs have no params, tags or metrics yet.</p>
        ) : (
          <>
            <input type="search" placeholder="Find a key…" value={find} onChange={(e) => setFind(e.target.value)} />
            {chosen.length ? (
              <button type="button" className="link-button" onClick={() => onChange([])}>
                Clear columns
              </button>
            ) : null}
            {KINDS.map((kind) => {
              const shown = keys[kind].filter((k) => k.toLowerCase().includes(needle));
              if (!shown.length) return null;
              return (
                <fieldset key={kind}>
                  <legend>{TITLES[kind]}</legend>
                  {shown.map((key) => {
                    const id = `${kind}.${key}`;
                    return (
                      <label key={id}>
                        <input type="checkbox" checked={chosen.includes(id)} onChange={() => toggle(id)} data-column-id={id} /> {key}
                      </label>
                    );
                  })}
                </fieldset>
              );
            })}
          </>
        )}
      </div>
    </details>
  );
}
