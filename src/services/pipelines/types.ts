/** What the pipeline services take and give. */
import type { StepIoRow, StepRow } from "../../db/pipeline-steps-repo.js";
import type { PipelineRow, PipelineRunRow } from "../../db/pipelines-repo.js";
import type { PipelineRunStatus, StepStatus } from "../../db/schema.js";

export type { PipelineRow, PipelineRunRow, PipelineRunStatus, StepIoRow, StepRow, StepStatus };

/** Something a step read or wrote. */
export type IoRef =
  | { kind: "dataset"; name: string; version: string }
  | { kind: "model"; name: string; version: number }
  | { kind: "artefact"; runId: string; path: string }
  | { kind: "external"; namespace: string; name: string; facets: Record<string, unknown> };

/** An input or output as stored, described for answers. */
export type IoView =
  | { kind: "dataset"; name: string; version: string }
  | { kind: "model"; name: string; version: number }
  | { kind: "artefact"; runId: string; path: string }
  | { kind: "external"; namespace: string; name: string };

export type PipelineView = PipelineRow & { project: string };
export type RunView = PipelineRunRow & { stepCounts: Record<string, number> };

/** A step as a whole: its instances together. */
export interface StepView {
  name: string;
  status: StepStatus;
  startTime: Date | null;
  endTime: Date | null;
  upstream: string[];
  instances: StepRow[];
  byStatus: Record<string, number>;
  inputs: IoView[];
  outputs: IoView[];
}

export interface StepEdge {
  from: string;
  to: string;
  fromData: boolean;
}

export interface NewStep {
  runId: string;
  name: string;
  instance: number;
  upstream: string[];
  cacheKey: string;
  trackingRunId: string;
  inputs: IoRef[];
  pending: boolean;
  /** OpenLineage: the child run's id and its facets. */
  externalId?: string;
  facets?: Record<string, unknown>;
  at?: Date;
}

/** A step instance by id, or by (run, name, instance). */
export type StepRef = { stepId: string } | { runId: string; name: string; instance: number };

/** Limits documented in pipeline.proto. */
export const MAX_INSTANCES_PER_RUN = 20_000;
export const MAX_EDGES_PER_RUN = 50_000;
export const MAX_UPSTREAM = 1000;
export const MAX_IO_PER_CALL = 1000;
