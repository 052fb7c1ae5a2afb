/** The latest metrics of the run that made a model version, read once per run and cached. */
import { useQuery } from "@connectrpc/connect-query";
import { ExperimentService } from "@gen/traintrack/v1/experiment_pb.js";
import { formatNumber } from "../../components/format.js";
import { Link, path } from "../../router.js";

/** A few metrics in a cell: "loss 0.21 · auc 0.93", the run linked. */
export function RunMetricsCell({ runId, limit = 4 }: { runId: string; limit?: number }) {
  const { data, error } = useQuery(ExperimentService.method.getRun, { runId }, { enabled: runId !== "", staleTime: 60_000 });
  if (!runId) return <span className="muted">no run</span>;
  const metrics = data?.run?.latestMetrics ?? [];
  return (
    <span className="run-metrics">
      <Link to={path`/runs/${runId}`}>{data?.run?.name || runId}</Link>
      {error ? <span className="muted"> (run not readable)</span> : null}
      {metrics.slice(0, limit).map((m) => (
        <span key={m.key} className="metric" data-metric={m.key} data-value={m.value}>
          {m.key} <span className="num">{formatNumber(m.value)}</span>
        </span>
      ))}
      {metrics.length > limit ? <span className="muted"> +{metrics.length - limit}</span> : null}
    </span>
  );
}

/** Every latest metric of the run, as a table. */
export function RunMetricsTable({ runId }: { runId: string }) {
  const { data } = useQuery(ExperimentService.method.getRun, { runId }, { enabled: runId !== "", staleTime: 60_000 });
  const metrics = data?.run?.latestMetrics ?? [];
  if (!runId) return <div className="muted">Registered without a run: no metrics.</div>;
  if (data && metrics.length === 0) return <div className="muted">The run logged no metrics.</div>;
  return (
    <table className="kv metrics">
      <tbody>
        {metrics.map((m) => (
          <tr key={m.key} data-metric={m.key}>
            <th>{m.key}</th>
            <td className="num">{formatNumber(m.value)}</td>
            <td className="muted">step {String(m.step)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
