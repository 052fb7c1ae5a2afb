/** A run's status as a coloured label (the classes of styles.css). */
import { RunStatus } from "@gen/traintrack/v1/experiment_pb.js";

const NAMES: Record<RunStatus, string> = {
  [RunStatus.UNSPECIFIED]: "unknown",
  [RunStatus.RUNNING]: "running",
  [RunStatus.FINISHED]: "finished",
  [RunStatus.FAILED]: "failed",
  [RunStatus.KILLED]: "killed",
};

export function statusName(s: RunStatus): string {
  return NAMES[s] ?? "unknown";
}

export function StatusLabel({ status }: { status: RunStatus }) {
  const name = statusName(status);
  return <span className={`status ${name}`}>{name}</span>;
}
