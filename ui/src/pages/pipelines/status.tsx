/** Step and pipeline-run statuses as words and as the status classes of styles.css (plus pipelines.css). */
import { PipelineRunStatus, StepStatus } from "@gen/traintrack/v1/pipeline_pb.js";

/** "succeeded", "failed" … the server's own words (they key a step's instances_by_status). */
export function stepStatusName(s: StepStatus): string {
  return (StepStatus[s] ?? "UNSPECIFIED").toLowerCase();
}

export function runStatusName(s: PipelineRunStatus): string {
  return (PipelineRunStatus[s] ?? "UNSPECIFIED").toLowerCase();
}

export function StepStatusBadge({ status }: { status: StepStatus }) {
  const name = stepStatusName(status);
  return <span className={`status ${name}`}>{name}</span>;
}

export function RunStatusBadge({ status }: { status: PipelineRunStatus }) {
  const name = runStatusName(status);
  return <span className={`status ${name}`}>{name}</span>;
}

/** Instances by status, most telling first: "48 succeeded · 2 failed". */
const ORDER = ["failed", "running", "pending", "succeeded", "cached", "skipped"];
export function countsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99))
    .map(([status, n]) => `${n} ${status}`)
    .join(" · ");
}
