/**
 * Params and latest metrics of the compared runs side by side: a row per
 * key, the rows whose values differ highlighted, and (?diff=1) only those.
 */
import type { Run } from "@gen/traintrack/v1/experiment_pb.js";
import { runColours } from "../../charts/palette.js";
import { formatNumber } from "../../components/format.js";
import { Link, path, setQuery, useLocation } from "../../router.js";

interface Row {
  section: "param" | "metric";
  key: string;
  values: string[];
}

export function rowsOf(runs: Run[]): Row[] {
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => r.latestMetrics.map((m) => m.key)))].sort();
  return [
    ...paramKeys.map((key) => ({ section: "param" as const, key, values: runs.map((r) => r.params[key] ?? "") })),
    ...metricKeys.map((key) => ({
      section: "metric" as const,
      key,
      values: runs.map((r) => {
        const m = r.latestMetrics.find((x) => x.key === key);
        return m ? formatNumber(m.value) : "";
      }),
    })),
  ];
}

const differs = (row: Row) => new Set(row.values).size > 1;

export function DiffTable({ runs, onRemove }: { runs: Run[]; onRemove: (runId: string) => void }) {
  const colours = runColours(runs.map((r) => r.runId));
  const onlyDiff = useLocation().query.get("diff") === "1";
  const rows = rowsOf(runs).filter((r) => !onlyDiff || differs(r));
  return (
    <div className="diff">
      <label className="diff-toggle">
        <input type="checkbox" checked={onlyDiff} onChange={(e) => setQuery({ diff: e.target.checked ? "1" : undefined })} /> only rows that differ
      </label>
      <div className="diff-scroll">
        <table className="grid diff-table">
          <thead>
            <tr>
              <th />
              {runs.map((r) => (
                <th key={r.runId}>
                  <span className="swatch" style={{ background: colours.get(r.runId) }} />
                  <Link to={path`/runs/${r.runId}`}>{r.name || r.runId}</Link>{" "}
                  <button type="button" className="link-button" title="Remove from the comparison" onClick={() => onRemove(r.runId)}>
                    ×
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={`${row.section}:${row.key}`} className={differs(row) ? "differs" : undefined}>
                <th>
                  <span className="muted">{row.section === "param" ? "param" : "metric"}</span> {row.key}
                </th>
                {row.values.map((v, i) => (
                  <td key={runs[i]?.runId ?? i} className={row.section === "metric" ? "num" : undefined}>
                    {v}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 ? <p className="muted">{onlyDiff ? "The runs agree on every param and metric." : "The runs have no params or metrics."}</p> : null}
    </div>
  );
}
