/** The runs filter: applied on Enter (each change is a server query), kept in the URL, with what it can read. */
import { useEffect, useState } from "react";
import { FILTER_HELP } from "./run-filter.js";

export function FilterBox({ value, parseError, onApply }: { value: string; parseError?: string; onApply: (text: string) => void }) {
  const [text, setText] = useState(value);
  // Back/forward or a shared link changes the URL's filter: show that one.
  useEffect(() => setText(value), [value]);
  return (
    <form
      className="filter-box"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(text.trim());
      }}
    >
      <input
        type="search"
        aria-label="Filter runs"
        placeholder='Filter, e.g. metrics.loss < 0.5 and params.optimizer = adam and status = finished'
        value={text}
        onChange={(e) => setText(e.target.value)}
        title={FILTER_HELP}
      />
      <button type="submit">Filter</button>
      {value ? (
        <button type="button" className="link-button" onClick={() => onApply("")}>
          Clear filter
        </button>
      ) : null}
      {parseError ? (
        <div className="error" role="alert">
          <strong>Could not read the filter.</strong> {parseError}
          <div className="advice">{FILTER_HELP}</div>
        </div>
      ) : null}
    </form>
  );
}
