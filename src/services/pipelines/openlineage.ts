/**
 * OpenLineage RunEvents (spec 2-0-2) as pipeline operations: pure checks and
 * mapping, no I/O (the intake, openlineage-intake.ts, applies them).
 *
 * A run with a `parent` run facet is a step instance of its parent's run: the
 * parent job is the pipeline, the child job the step (by name), each run found
 * again by its OpenLineage runId. A run without one is a pipeline run itself.
 * Datasets are external datasets by namespace and name, except namespace
 * "traintrack" with name "<dataset>@<version>", which names a dataset version
 * of ours (when it exists). Facets are kept: the run's under their own names,
 * the job's under "job.<name>", merged into the run's or step's facets.
 */
import { InvalidInputError } from "../errors.js";
import { type IoRef, MAX_IO_PER_CALL, type PipelineRunStatus } from "./types.js";

export const EVENT_TYPES = ["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The namespace by which a dataset names one of ours: name "<dataset>@<version>". */
export const TRAINTRACK_NAMESPACE = "traintrack";
/** Facets kept per event and per dataset; larger facets are replaced by a note saying so. */
export const MAX_FACETS_BYTES = 64 * 1024;

type Facets = Record<string, unknown>;

export interface LineageDataset {
  namespace: string;
  name: string;
  facets: Facets;
}

export interface JobRef {
  namespace: string;
  name: string;
}

export interface RunEvent {
  eventType: EventType;
  eventTime: Date;
  runId: string;
  job: JobRef;
  /** Run facets under their names, job facets under "job.<name>". */
  facets: Facets;
  parent: { runId: string; job: JobRef } | undefined;
  inputs: LineageDataset[];
  outputs: LineageDataset[];
}

/** What an event asks of the pipeline services. Runs and steps are named by their OpenLineage runIds. */
export type IntakeOp =
  | { kind: "run"; pipeline: JobRef; runId: string; at: Date; facets: Facets; end: PipelineRunStatus | undefined }
  | {
      kind: "step";
      pipeline: JobRef;
      pipelineRunId: string;
      step: string;
      stepRunId: string;
      at: Date;
      facets: Facets;
      end: { status: "succeeded" | "failed"; message: string } | undefined;
      /** As sent: ioRefOf says what each names, once the intake knows whether a dataset of ours exists. */
      inputs: LineageDataset[];
      outputs: LineageDataset[];
    };

const CONTROL = /\p{Cc}/u;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function text(field: string, value: unknown, maxBytes: number): string {
  if (value === undefined || value === null || value === "") throw new InvalidInputError(field, `${field} is required`);
  if (typeof value !== "string") throw new InvalidInputError(field, `${field} must be a string`);
  if (CONTROL.test(value)) throw new InvalidInputError(field, `${field} contains a NUL or control character`);
  if (Buffer.byteLength(value) > maxBytes) throw new InvalidInputError(field, `${field} is longer than ${maxBytes} bytes`);
  return value;
}

function object(field: string, value: unknown): Facets {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new InvalidInputError(field, `${field} must be a JSON object`);
  return value;
}

/**
 * Facets as kept: PostgreSQL's jsonb cannot hold NUL, so an event carrying one
 * is refused; a facet past the byte budget is replaced by a note (Spark's plan
 * facets run to megabytes; the event is still worth recording).
 */
function facets(field: string, value: unknown, prefix = ""): Facets {
  const out: Facets = {};
  let budget = MAX_FACETS_BYTES;
  for (const [name, facet] of Object.entries(object(field, value))) {
    const json = JSON.stringify(facet) ?? "null";
    if (json.includes("\\u0000")) throw new InvalidInputError(`${field}.${name}`, `${field}.${name} contains a NUL character`);
    const size = Buffer.byteLength(json);
    budget -= size;
    out[`${prefix}${name}`] = budget >= 0 ? facet : { _traintrack: `dropped: ${size} bytes, over the ${MAX_FACETS_BYTES}-byte budget of an event's facets` };
  }
  return out;
}

function datasets(field: string, value: unknown, extra: "inputFacets" | "outputFacets"): LineageDataset[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidInputError(field, `${field} must be an array`);
  if (value.length > MAX_IO_PER_CALL) throw new InvalidInputError(field, `${field} has ${value.length} datasets; the limit is ${MAX_IO_PER_CALL}`);
  return value.map((d: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(d)) throw new InvalidInputError(at, `${at} must be a JSON object`);
    const kept = facets(`${at}.facets`, d.facets);
    const more = facets(`${at}.${extra}`, d[extra]);
    return { namespace: text(`${at}.namespace`, d.namespace, 1024), name: text(`${at}.name`, d.name, 1024), facets: Object.keys(more).length ? { ...kept, [extra]: more } : kept };
  });
}

function eventTime(value: unknown): Date {
  const raw = text("eventTime", value, 64);
  // ISO 8601 with a date and a time; Date.parse alone accepts "2026" or "Nov 30".
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(raw) ? new Date(raw) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) throw new InvalidInputError("eventTime", `eventTime must be an ISO 8601 date-time such as 2026-11-30T12:00:00Z; got ${JSON.stringify(raw.slice(0, 64))}`);
  return at;
}

function job(field: string, value: unknown): JobRef {
  if (!isObject(value)) throw new InvalidInputError(field, `${field} is required: an object with namespace and name`);
  // Job names become pipeline and step names: 256 bytes (pipeline.proto).
  return { namespace: text(`${field}.namespace`, value.namespace, 1024), name: text(`${field}.name`, value.name, 256) };
}

/** Checks a parsed JSON body as a RunEvent; InvalidInputError naming the field otherwise. */
export function parseRunEvent(body: unknown): RunEvent {
  if (!isObject(body)) throw new InvalidInputError("body", "the body must be a JSON object: an OpenLineage RunEvent");
  // eventType is optional in the spec (a run's facets may be sent alone): then OTHER.
  const type = body.eventType ?? "OTHER";
  if (typeof type !== "string" || !(EVENT_TYPES as readonly string[]).includes(type)) {
    throw new InvalidInputError("eventType", `eventType must be one of ${EVENT_TYPES.join(", ")}; got ${JSON.stringify(type).slice(0, 64)}`);
  }
  const at = eventTime(body.eventTime);
  if (!isObject(body.run)) throw new InvalidInputError("run", "run is required: an object with runId (DatasetEvents and JobEvents are not recorded, only RunEvents)");
  const runId = text("run.runId", body.run.runId, 256);
  const runFacets = facets("run.facets", body.run.facets);
  const j = job("job", body.job);
  text("producer", body.producer, 2048);
  if (body.schemaURL !== undefined && typeof body.schemaURL !== "string") throw new InvalidInputError("schemaURL", "schemaURL must be a string");
  const jobFacets = isObject(body.job) ? facets("job.facets", body.job.facets, "job.") : {};
  let parent: RunEvent["parent"];
  if (runFacets.parent !== undefined) {
    const p = object("run.facets.parent", runFacets.parent);
    const run = object("run.facets.parent.run", p.run);
    parent = { runId: text("run.facets.parent.run.runId", run.runId, 256), job: job("run.facets.parent.job", p.job) };
  }
  return {
    eventType: type as EventType,
    eventTime: at,
    runId,
    job: j,
    facets: { ...runFacets, ...jobFacets },
    parent,
    inputs: datasets("inputs", body.inputs, "inputFacets"),
    outputs: datasets("outputs", body.outputs, "outputFacets"),
  };
}

/** A dataset as an input or output: one of ours when named "traintrack" / "<dataset>@<version>", else external. */
export function ioRefOf(d: LineageDataset): IoRef {
  const at = d.name.lastIndexOf("@");
  if (d.namespace === TRAINTRACK_NAMESPACE && at > 0 && at < d.name.length - 1) {
    return { kind: "dataset", name: d.name.slice(0, at), version: d.name.slice(at + 1) };
  }
  return { kind: "external", namespace: d.namespace, name: d.name, facets: d.facets };
}

const RUN_END: Partial<Record<EventType, PipelineRunStatus>> = { COMPLETE: "succeeded", FAIL: "failed", ABORT: "aborted" };

/** The error message of a failed run, from its errorMessage facet. */
function errorMessage(f: Facets): string {
  const facet = f.errorMessage;
  const message = isObject(facet) && typeof facet.message === "string" ? facet.message : "";
  return message.slice(0, 4096) || "failed (OpenLineage FAIL event)";
}

function stepEnd(e: RunEvent): { status: "succeeded" | "failed"; message: string } | undefined {
  if (e.eventType === "COMPLETE") return { status: "succeeded", message: "" };
  if (e.eventType === "FAIL") return { status: "failed", message: errorMessage(e.facets) };
  if (e.eventType === "ABORT") return { status: "failed", message: "aborted" };
  return undefined;
}

/**
 * The operations an event stands for. A run without a parent that reads or
 * writes datasets is also a step of itself (same name), so that its data is
 * in the graph: pipeline runs have no inputs and outputs of their own.
 */
export function operationsOf(e: RunEvent): IntakeOp[] {
  const step = (pipeline: JobRef, pipelineRunId: string) =>
    ({
      kind: "step",
      pipeline,
      pipelineRunId,
      step: e.job.name,
      stepRunId: e.runId,
      at: e.eventTime,
      facets: e.facets,
      end: stepEnd(e),
      inputs: e.inputs,
      outputs: e.outputs,
    }) as const;
  if (e.parent) return [step(e.parent.job, e.parent.runId)];
  const run: IntakeOp = { kind: "run", pipeline: e.job, runId: e.runId, at: e.eventTime, facets: e.facets, end: RUN_END[e.eventType] };
  return e.inputs.length + e.outputs.length > 0 ? [run, step(e.job, e.runId)] : [run];
}
