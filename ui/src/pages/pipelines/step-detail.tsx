/**
 * A step's detail, beside the DAG: status and timing, its upstream steps, its
 * instances (each with the Traintrack run tracking it, its cache source and
 * why it failed) and what it read and wrote.
 */
import { useQuery } from "@connectrpc/connect-query";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { PipelineService, type Step, type StepInstance } from "@gen/traintrack/v1/pipeline_pb.js";
import { ErrorBox } from "../../components/feedback.js";
import { formatDuration, formatTime } from "../../components/format.js";
import { Link, path, setQuery } from "../../router.js";
import { lineagePath } from "../lineage/lineage-links.js";
import { StepStatusBadge, countsText } from "./status.js";
import { StepIOList } from "./step-io.js";

/** More instances than this are counted, not listed: the counts already tell the story. */
const INSTANCES_SHOWN = 200;

export function StepDetail({ pipelineRunId, step, instance, refetchInterval }: { pipelineRunId: string; step: Step; instance?: number; refetchInterval: number | false }) {
  // A step's instances (with their runs) are asked for when it is opened: its own only, not every step's.
  const expanded = useQuery(PipelineService.method.getPipelineRun, { pipelineRunId, instancesOfStep: step.name }, { refetchInterval });
  const all = expanded.data?.steps.find((s) => s.name === step.name)?.instances ?? [];
  const instances = instance === undefined ? all : all.filter((i) => i.instance === instance);
  return (
    <aside className="step-detail" data-step-detail={step.name}>
      <div className="step-detail-head">
        <h2>{step.name}</h2>
        <button type="button" className="link-button" onClick={() => setQuery({ node: undefined })} aria-label="Close the step's detail">
          ✕
        </button>
      </div>
      <table className="kv">
        <tbody>
          <tr>
            <th>Status</th>
            <td>
              <StepStatusBadge status={step.status} />
            </td>
          </tr>
          <tr>
            <th>Started</th>
            <td>{formatTime(step.startTime)}</td>
          </tr>
          <tr>
            <th>Ended</th>
            <td>{formatTime(step.endTime)}</td>
          </tr>
          {step.startTime && step.endTime ? (
            <tr>
              <th>Duration</th>
              <td>{formatDuration(timestampMs(step.endTime) - timestampMs(step.startTime))}</td>
            </tr>
          ) : null}
          <tr>
            <th>Instances</th>
            <td>
              {step.instanceCount} {step.instanceCount > 1 ? <span className="muted">({countsText(step.instancesByStatus)})</span> : null}
            </td>
          </tr>
          <tr>
            <th>After</th>
            <td>{step.upstream.length ? step.upstream.join(", ") : <span className="muted">nothing (a first step)</span>}</td>
          </tr>
        </tbody>
      </table>

      <h3>{instance === undefined ? "Instances" : `Instance ${instance}`}</h3>
      {expanded.error ? <ErrorBox error={expanded.error} what="load the step's instances" /> : null}
      <InstanceTable instances={instances.slice(0, INSTANCES_SHOWN)} />
      {instances.length > INSTANCES_SHOWN ? <p className="muted">and {instances.length - INSTANCES_SHOWN} more.</p> : null}

      <h3>Inputs</h3>
      <StepIOList items={step.inputs} none="It recorded no inputs." />
      <h3>Outputs</h3>
      <StepIOList items={step.outputs} none="It recorded no outputs." />
      <p>
        <Link to={lineagePath({ kind: "pipeline-run", id: pipelineRunId })}>Lineage of this pipeline run →</Link>
      </p>
    </aside>
  );
}

function InstanceTable({ instances }: { instances: StepInstance[] }) {
  if (instances.length === 0) return null;
  return (
    <table className="grid instances">
      <thead>
        <tr>
          <th>#</th>
          <th>Status</th>
          <th>Run</th>
          <th>Ended</th>
        </tr>
      </thead>
      <tbody>
        {instances.map((i) => (
          <tr key={i.id} data-instance={i.instance}>
            <td className="num">{i.instance}</td>
            <td>
              <StepStatusBadge status={i.status} />
              {i.message ? <div className="instance-message">{i.message}</div> : null}
              {i.cachedFrom ? <div className="muted">cached from {i.cachedFrom}</div> : null}
            </td>
            <td>{i.runId ? <Link to={path`/runs/${i.runId}`}>{i.runId}</Link> : <span className="muted">none</span>}</td>
            <td>{formatTime(i.endTime)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
