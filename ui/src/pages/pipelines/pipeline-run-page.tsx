/**
 * A pipeline run: its DAG with step status colours (fan-outs collapsed, or
 * expanded with ?expand=1), a step's detail on click (?node=…), live while
 * the run is running.
 */
import { useQuery } from "@connectrpc/connect-query";
import { PipelineRunStatus, PipelineService, type Step } from "@gen/traintrack/v1/pipeline_pb.js";
import { useEffect, useMemo, useRef } from "react";
import { Empty, ErrorBox, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { Link, path, setQuery, useLocation } from "../../router.js";
import { LIVE_INTERVAL_MS, useLiveInterval } from "./live.js";
import { PipelineDag } from "./pipeline-dag.js";
import { RunStatusBadge, countsText } from "./status.js";
import { StepDetail } from "./step-detail.js";
import "./pipelines.css";

export function PipelineRunPage({ runId }: { runId: string }) {
  const { query } = useLocation();
  const expand = query.get("expand") === "1";
  const nodeId = query.get("node") ?? undefined;

  const live = useLiveInterval();
  const run = useQuery(PipelineService.method.getPipelineRun, { pipelineRunId: runId }, { refetchInterval: (q) => live.interval(q.state.data?.run?.status === PipelineRunStatus.RUNNING) });
  const running = run.data?.run?.status === PipelineRunStatus.RUNNING;
  const interval = live.interval(running);
  const graph = useQuery(PipelineService.method.getPipelineGraph, { pipelineRunId: runId, expand }, { refetchInterval: interval });

  // The poll that sees the run end may have drawn the graph just before: draw it once more.
  const wasRunning = useRef(running);
  useEffect(() => {
    if (wasRunning.current && !running) void graph.refetch();
    wasRunning.current = running;
  }, [running, graph]);

  const r = run.data?.run;
  const steps = useMemo(() => new Map<string, Step>((run.data?.steps ?? []).map((s) => [s.name, s])), [run.data]);
  const node = graph.data?.nodes.find((n) => n.id === nodeId);
  const selectedStep = node ? steps.get(node.step) : undefined;
  const instance = node && node.id !== node.step ? Number(/\[(\d+)\]$/.exec(node.id)?.[1]) : undefined;

  return (
    <section className="pipeline-run">
      <div className="crumbs">
        <Link to="/pipelines">Pipelines</Link> / {r ? <Link to={path`/pipelines/${r.pipeline}`}>{r.pipeline}</Link> : null} /
      </div>
      <div className="page-head">
        <h1>
          Run <code>{runId}</code>
        </h1>
        {r ? <RunStatusBadge status={r.status} /> : null}
        {r?.trigger ? <span className="muted">trigger: {r.trigger}</span> : null}
        {r ? (
          <span className="muted">
            {formatTime(r.startTime)}
            {r.endTime ? ` → ${formatTime(r.endTime)}` : ""}
          </span>
        ) : null}
        {r ? <span className="muted">{countsText(r.stepCounts)}</span> : null}
        <label className="toggle">
          <input type="checkbox" checked={expand} onChange={(e) => setQuery({ expand: e.target.checked ? "1" : undefined, node: undefined })} /> Expand fan-outs
        </label>
        <Link to={path`/lineage/pipeline-run/${runId}`}>Lineage</Link>
        <LiveNote running={running} expired={live.expired()} />
      </div>
      {run.error ? <ErrorBox error={run.error} what="load the pipeline run" /> : null}
      {r && Object.keys(r.params).length ? (
        <p className="muted">
          {Object.entries(r.params)
            .map(([k, v]) => `${k}=${v}`)
            .join(" · ")}
        </p>
      ) : null}
      <div className="dag-and-detail">
        <div className="dag">
          <Loaded query={graph} what="load the run's DAG">
            {(g) =>
              g.nodes.length === 0 ? (
                <Empty title="This run has no steps yet.">Steps appear here as the pipeline starts them{running ? " (this page refreshes while the run is running)" : ""}.</Empty>
              ) : (
                <PipelineDag graph={g} steps={steps} selected={nodeId} onSelect={(id) => setQuery({ node: id })} expanded={expand} />
              )
            }
          </Loaded>
        </div>
        {selectedStep ? <StepDetail pipelineRunId={runId} step={selectedStep} instance={instance} refetchInterval={interval} /> : null}
      </div>
    </section>
  );
}

function LiveNote({ running, expired }: { running: boolean; expired: boolean }) {
  if (!running) return null;
  if (expired) return <span className="notice">Live updates stopped after 30 minutes: reload the page to resume.</span>;
  return <span className="live" data-live="true">● live, every {LIVE_INTERVAL_MS / 1000} s</span>;
}
