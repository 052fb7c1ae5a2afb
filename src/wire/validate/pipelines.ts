/** Validation of PipelineService requests. */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { PipelineRunStatus, type RecordStepsRequest, StepStatus, type StepIO } from "../../../gen/traintrack/v1/pipeline_pb.js";
import { InvalidInputError } from "../../services/errors.js";
import { type IoRef, MAX_IO_PER_CALL, MAX_UPSTREAM, type PipelineRunStatus as RunStatus, type RecordedStep, type StepStatus as Status } from "../../services/pipelines/index.js";
import { versionRef } from "./datasets.js";
import { entries } from "./experiments.js";
import * as f from "./fields.js";
import { modelName, version } from "./models.js";

const MAX_INSTANCE = 1_000_000;
const MAX_FACETS_BYTES = 64 * 1024;

/** A pipeline or step name: 1 to 256 bytes without control characters (OpenLineage job names fit). */
export function name(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required`);
  f.noControl(field, value);
  return f.text(field, value, 256);
}

export function instance(field: string, value: number): number {
  if (value < 0 || value > MAX_INSTANCE) throw new InvalidInputError(field, `${field} must be between 0 and ${MAX_INSTANCE}`);
  return value;
}

export function upstream(field: string, names: string[]): string[] {
  if (names.length > MAX_UPSTREAM) throw new InvalidInputError(field, `at most ${MAX_UPSTREAM} upstream steps`);
  return [...new Set(names.map((n, i) => name(`${field}[${i}]`, n)))];
}

/** Facets as JSON text; an object. */
export function facets(field: string, text: string): Record<string, unknown> {
  if (!text) return {};
  f.text(field, text, MAX_FACETS_BYTES);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError(field, `${field} must be a JSON object`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidInputError(field, `${field} must be a JSON object`);
  return value as Record<string, unknown>;
}

export function externalName(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required`);
  f.noControl(field, value);
  return f.text(field, value, 1024);
}

export function io(field: string, items: StepIO[]): IoRef[] {
  if (items.length > MAX_IO_PER_CALL) throw new InvalidInputError(field, `at most ${MAX_IO_PER_CALL} inputs or outputs per call`);
  return items.map((item, i): IoRef => {
    const at = `${field}[${i}]`;
    const ref = item.ref;
    switch (ref.case) {
      case "dataset":
        return { kind: "dataset", ...versionRef(`${at}.dataset`, ref.value) };
      case "model":
        return { kind: "model", name: modelName(`${at}.model.model`, ref.value.model), version: version(`${at}.model.version`, ref.value.version) };
      case "runArtefact":
        return { kind: "artefact", runId: f.id(`${at}.run_artefact.run_id`, ref.value.runId), path: f.artefactPath(`${at}.run_artefact.path`, ref.value.path) || f.fileName(`${at}.run_artefact.path`, ref.value.path) };
      case "external":
        return {
          kind: "external",
          namespace: externalName(`${at}.external.namespace`, ref.value.namespace),
          name: externalName(`${at}.external.name`, ref.value.name),
          facets: facets(`${at}.external.facets`, ref.value.facets),
        };
      default:
        throw new InvalidInputError(at, `${at} names nothing: give a dataset, model, run_artefact or external`);
    }
  });
}

const STEP_STATUSES: Partial<Record<StepStatus, Status>> = { [StepStatus.SUCCEEDED]: "succeeded", [StepStatus.FAILED]: "failed", [StepStatus.SKIPPED]: "skipped" };

/** The status a step may finish with. */
export function endStatus(field: string, value: StepStatus): Status {
  const status = STEP_STATUSES[value];
  if (!status) throw new InvalidInputError(field, `${field} must be STEP_STATUS_SUCCEEDED, _FAILED or _SKIPPED`);
  return status;
}

const RUN_STATUSES: Partial<Record<PipelineRunStatus, RunStatus>> = {
  [PipelineRunStatus.SUCCEEDED]: "succeeded",
  [PipelineRunStatus.FAILED]: "failed",
  [PipelineRunStatus.ABORTED]: "aborted",
};

export function runEndStatus(field: string, value: PipelineRunStatus): RunStatus {
  const status = RUN_STATUSES[value];
  if (!status) throw new InvalidInputError(field, `${field} must be PIPELINE_RUN_STATUS_SUCCEEDED, _FAILED or _ABORTED`);
  return status;
}

export const params = (field: string, map: Record<string, string>) => Object.fromEntries(entries(field, map));

/** Limits of one RecordSteps call, documented in pipeline.proto. */
export const MAX_STEPS_PER_CALL = 1000;
export const MAX_UPSTREAM_NAMES_PER_CALL = 10_000;
export const MAX_IO_PER_RECORD_CALL = 10_000;

const RECORDED_STATUSES: Partial<Record<StepStatus, Status>> = { ...STEP_STATUSES, [StepStatus.RUNNING]: "running", [StepStatus.PENDING]: "pending" };

/** A RecordSteps request's steps, each checked as StartStep and FinishStep check theirs, within the call's limits. */
export function recordedSteps(req: RecordStepsRequest): RecordedStep[] {
  if (req.steps.length === 0) throw new InvalidInputError("steps", "give at least one step");
  if (req.steps.length > MAX_STEPS_PER_CALL) throw new InvalidInputError("steps", `at most ${MAX_STEPS_PER_CALL} steps per call (got ${req.steps.length}): split them into several calls`);
  const upstreamNames = req.steps.reduce((n, s) => n + s.upstream.length, 0);
  if (upstreamNames > MAX_UPSTREAM_NAMES_PER_CALL) throw new InvalidInputError("steps", `at most ${MAX_UPSTREAM_NAMES_PER_CALL} upstream names per call (got ${upstreamNames}): split the steps into several calls`);
  const ios = req.steps.reduce((n, s) => n + s.inputs.length + s.outputs.length, 0);
  if (ios > MAX_IO_PER_RECORD_CALL) throw new InvalidInputError("steps", `at most ${MAX_IO_PER_RECORD_CALL} inputs and outputs per call (got ${ios}): split the steps into several calls`);
  const seen = new Set<string>();
  return req.steps.map((s, i): RecordedStep => {
    const at = `steps[${i}]`;
    const step = { name: name(`${at}.name`, s.name), instance: instance(`${at}.instance`, s.instance) };
    const key = `${step.name}\0${step.instance}`;
    if (seen.has(key)) throw new InvalidInputError(`${at}.name`, `step "${step.name}" instance ${step.instance} is given twice: give each instance once, as far as it got`);
    seen.add(key);
    const status = RECORDED_STATUSES[s.status];
    if (!status) throw new InvalidInputError(`${at}.status`, `${at}.status must be STEP_STATUS_RUNNING, _PENDING, _SUCCEEDED, _FAILED or _SKIPPED`);
    return {
      ...step,
      upstream: upstream(`${at}.upstream`, s.upstream),
      cacheKey: s.cacheKey ? f.text(`${at}.cache_key`, s.cacheKey, 256) : "",
      trackingRunId: s.runId ? f.id(`${at}.run_id`, s.runId) : "",
      inputs: io(`${at}.inputs`, s.inputs),
      outputs: io(`${at}.outputs`, s.outputs),
      status,
      startTime: s.startTime ? timestampDate(s.startTime) : undefined,
      endTime: s.endTime ? timestampDate(s.endTime) : undefined,
      message: f.text(`${at}.message`, s.message, 4096),
    };
  });
}
