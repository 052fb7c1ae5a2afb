/**
 * Runs compared (/compare?runs=id,id,…): a chart per metric key with the
 * runs overlaid (each in its own stable colour), the params and latest
 * metrics side by side with differences highlighted, and one param against
 * one metric as a scatter.
 */
import { RunStatus } from "@gen/traintrack/v1/experiment_pb.js";
import { useMemo } from "react";
import { MetricCharts } from "../../charts/metric-charts.js";
import { Empty, ErrorBox, Pending } from "../../components/feedback.js";
import { Link } from "../../router.js";
import { DiffTable } from "./diff-table.js";
import { ParamScatter } from "./param-scatter.js";
import { removeRun, useRunIds, useRuns } from "./use-runs.js";
import "./compare.css";

export function ComparePage() {
  const ids = useRunIds();
  const { runs, error, pending } = useRuns(ids);
  const keys = useMemo(() => [...new Set(runs.flatMap((r) => r.latestMetrics.map((m) => m.key)))].sort(), [runs]);
  const chartRuns = useMemo(() => runs.map((r) => ({ id: r.runId, label: r.name || r.runId })), [runs]);
  const live = runs.some((r) => r.status === RunStatus.RUNNING);

  if (ids.length === 0)
    return (
      <Empty title="No runs to compare.">
        Pick runs in an experiment's <Link to="/projects">runs table</Link> and choose “Compare”.
      </Empty>
    );
  return (
    <section className="compare-page">
      <div className="page-head">
        <h1>Comparing {ids.length} runs</h1>
      </div>
      {error ? <ErrorBox error={error} what="load every run of the comparison" /> : null}
      {pending && runs.length === 0 ? (
        <Pending />
      ) : (
        <>
          <h2>Params and metrics</h2>
          <DiffTable runs={runs} onRemove={(id) => removeRun(ids, id)} />
          <h2>Param against metric</h2>
          <ParamScatter runs={runs} />
          <h2>Metrics</h2>
          {pending ? <Pending /> : <MetricCharts keys={keys} runs={chartRuns} live={live} />}
        </>
      )}
    </section>
  );
}
