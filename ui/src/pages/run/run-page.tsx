/**
 * A run: what it is (status, timing, where it ran), what it was given
 * (params, tags, input dataset versions), what it produced (artefacts), and
 * a chart per metric key. While the run is running, the run and its charts
 * refresh every few seconds.
 */
import { useQuery } from "@connectrpc/connect-query";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ExperimentService, type Run, RunStatus } from "@gen/traintrack/v1/experiment_pb.js";
import { useMemo } from "react";
import { MetricCharts } from "../../charts/metric-charts.js";
import { LIVE_INTERVAL_MS } from "../../charts/history.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatDuration, formatNumber, formatTime } from "../../components/format.js";
import { Link, path } from "../../router.js";
import { RunArtefacts } from "./run-artefacts.js";
import { StatusLabel } from "../../components/run-status.js";
import { KeyValues } from "./key-values.js";
import "./run.css";

export function RunPage({ runId }: { runId: string }) {
  const query = useQuery(
    ExperimentService.method.getRun,
    { runId },
    { refetchInterval: (q) => (q.state.data?.run?.status === RunStatus.RUNNING ? LIVE_INTERVAL_MS : false) },
  );
  return (
    <Loaded query={query} what="load the run">
      {(data) => (data.run ? <RunView run={data.run} /> : <Empty title="No such run." />)}
    </Loaded>
  );
}

function RunView({ run }: { run: Run }) {
  const running = run.status === RunStatus.RUNNING;
  const keys = useMemo(() => run.latestMetrics.map((m) => m.key), [run.latestMetrics]);
  const runs = useMemo(() => [{ id: run.runId, label: run.name || run.runId }], [run.runId, run.name]);
  const started = run.startTime ? timestampMs(run.startTime) : undefined;
  const ended = run.endTime ? timestampMs(run.endTime) : undefined;
  return (
    <section className="run-page">
      <div className="crumbs">
        <Link to={path`/projects/${run.project}`}>{run.project}</Link> /{" "}
        <Link to={path`/projects/${run.project}/experiments/${run.experiment}`}>{run.experiment}</Link>
      </div>
      <div className="page-head">
        <h1>{run.name || run.runId}</h1>
        <StatusLabel status={run.status} />
        <Link to={path`/lineage/run/${run.runId}`}>Lineage</Link>
      </div>

      <div className="run-facts">
        <table className="kv">
          <tbody>
            <tr>
              <th>Run id</th>
              <td>
                <code>{run.runId}</code>
              </td>
            </tr>
            <tr>
              <th>Started</th>
              <td>{formatTime(run.startTime)}</td>
            </tr>
            <tr>
              <th>{running ? "Running for" : "Ended"}</th>
              <td>
                {running ? formatDuration(Date.now() - (started ?? Date.now())) : `${formatTime(run.endTime)}`}
                {!running && started !== undefined && ended !== undefined ? <span className="muted"> · took {formatDuration(ended - started)}</span> : null}
              </td>
            </tr>
            {run.group ? (
              <tr>
                <th>Group</th>
                <td>
                  {run.group}
                  {run.rank !== undefined ? <span className="muted"> · rank {run.rank}</span> : null}
                </td>
              </tr>
            ) : null}
            {run.host ? (
              <tr>
                <th>Host</th>
                <td>{run.host}</td>
              </tr>
            ) : null}
          </tbody>
        </table>
        <div>
          <h2>Inputs</h2>
          {run.inputs.length === 0 ? (
            <p className="muted">No dataset versions recorded. From Python: <code>run.use_dataset(client.datasets.get("customer_churn", version="1.0.0"))</code></p>
          ) : (
            <ul className="inputs">
              {run.inputs.map((d) => (
                <li key={`${d.name}@${d.version}`}>
                  <Link to={path`/datasets/${d.name}/${d.version}`}>
                    {d.name} {d.version}
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>

      <div className="run-columns">
        <div>
          <h2>Params</h2>
          <KeyValues values={run.params} empty="No params logged." />
        </div>
        <div>
          <h2>Tags</h2>
          <KeyValues values={run.tags} empty="No tags." />
        </div>
        <div>
          <h2>Latest metrics</h2>
          {run.latestMetrics.length === 0 ? (
            <p className="muted">None yet.</p>
          ) : (
            <table className="kv latest-metrics">
              <tbody>
                {run.latestMetrics.map((m) => (
                  <tr key={m.key}>
                    <th>{m.key}</th>
                    <td className="num">{formatNumber(m.value)}</td>
                    <td className="muted">step {m.step.toString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {run.latestMetricsTruncated ? <p className="muted">Only the first 100 metric keys are shown.</p> : null}
        </div>
      </div>

      <h2>Metrics{running ? <span className="muted live"> · live</span> : null}</h2>
      <MetricCharts keys={keys} runs={runs} live={running} />

      <h2>Artefacts</h2>
      <RunArtefacts runId={run.runId} />
    </section>
  );
}
