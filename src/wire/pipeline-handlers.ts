import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type Pipeline,
  PipelineGraphNodeSchema,
  type PipelineRun,
  PipelineRunSchema,
  PipelineRunStatus,
  PipelineSchema,
  type PipelineService,
  type Step,
  StepEdgeSchema,
  type StepInstance,
  StepInstanceSchema,
  type StepIO,
  StepIOSchema,
  StepSchema,
  StepStatus,
} from "../../gen/traintrack/v1/pipeline_pb.js";
import { InvalidInputError } from "../services/errors.js";
import { readableProjects } from "../services/identity/index.js";
import type { IoView, PipelineService as Pipelines, PipelineView, RunView, StepRow, StepStatus as Status, StepView } from "../services/pipelines/index.js";
import { principalOf } from "./interceptors/auth.js";
import * as f from "./validate/fields.js";
import * as v from "./validate/pipelines.js";

const ts = (d: Date | null) => (d ? timestampFromDate(d) : undefined);

export const STEP_STATUS: Record<Status, StepStatus> = {
  pending: StepStatus.PENDING,
  running: StepStatus.RUNNING,
  succeeded: StepStatus.SUCCEEDED,
  failed: StepStatus.FAILED,
  skipped: StepStatus.SKIPPED,
  cached: StepStatus.CACHED,
};
const RUN_STATUS = { running: PipelineRunStatus.RUNNING, succeeded: PipelineRunStatus.SUCCEEDED, failed: PipelineRunStatus.FAILED, aborted: PipelineRunStatus.ABORTED };

/** Facets answered at most this large (each was kept at most 64 KiB); past it, a note says so. */
const MAX_FACETS_ANSWERED = 1024 * 1024;

/** Stored facets (jsonb, so JSON values) as a google.protobuf.Struct, which protobuf-es holds as a JSON object. */
function facetsOf(facets: Record<string, unknown>): JsonObject | undefined {
  if (Object.keys(facets).length === 0) return undefined;
  const size = Buffer.byteLength(JSON.stringify(facets));
  if (size > MAX_FACETS_ANSWERED) return { _traintrack: `facets of ${size} bytes, over the ${MAX_FACETS_ANSWERED} answered: not returned` };
  return facets as JsonObject;
}

const toPipeline = (p: PipelineView): Pipeline =>
  create(PipelineSchema, { name: p.name, project: p.project, description: p.description, namespace: p.namespace, createdAt: ts(p.createdAt) });

const toRun = (r: RunView): PipelineRun =>
  create(PipelineRunSchema, {
    id: r.id,
    pipeline: r.pipeline,
    status: RUN_STATUS[r.status],
    startTime: ts(r.startTime),
    endTime: ts(r.endTime),
    trigger: r.trigger,
    params: r.params,
    stepCounts: r.stepCounts,
  });

const toInstance = (s: StepRow, withFacets = false): StepInstance =>
  create(StepInstanceSchema, {
    id: s.id,
    instance: s.instance,
    status: STEP_STATUS[s.status],
    startTime: ts(s.startTime),
    endTime: ts(s.endTime),
    runId: s.runId ?? "",
    cacheKey: s.cacheKey,
    cachedFrom: s.cachedFrom ?? "",
    message: s.message,
    facets: withFacets ? facetsOf(s.facets) : undefined,
  });

function toIo(x: IoView): StepIO {
  switch (x.kind) {
    case "dataset":
      return create(StepIOSchema, { ref: { case: "dataset", value: { name: x.name, version: x.version } } });
    case "model":
      return create(StepIOSchema, { ref: { case: "model", value: { model: x.name, version: BigInt(x.version) } } });
    case "artefact":
      return create(StepIOSchema, { ref: { case: "runArtefact", value: { runId: x.runId, path: x.path } } });
    case "external":
      return create(StepIOSchema, { ref: { case: "external", value: { namespace: x.namespace, name: x.name } } });
  }
}

const toStep = (s: StepView, expand: boolean): Step =>
  create(StepSchema, {
    name: s.name,
    status: STEP_STATUS[s.status],
    startTime: ts(s.startTime),
    endTime: ts(s.endTime),
    upstream: s.upstream,
    instanceCount: s.instances.length,
    instancesByStatus: s.byStatus,
    inputs: s.inputs.map(toIo),
    outputs: s.outputs.map(toIo),
    instances: expand ? s.instances.map((i) => toInstance(i, true)) : [],
  });


function stepRef(req: { stepId: string; pipelineRunId: string; name: string; instance: number }) {
  if (req.stepId) return { stepId: f.id("step_id", req.stepId) };
  if (!req.pipelineRunId) throw new InvalidInputError("step_id", "give step_id, or pipeline_run_id and name");
  return { runId: f.id("pipeline_run_id", req.pipelineRunId), name: v.name("name", req.name), instance: v.instance("instance", req.instance) };
}

export function pipelineHandlers(pipelines: Pipelines): ServiceImpl<typeof PipelineService> {
  return {
    async createPipeline(req, ctx) {
      const input = { name: v.name("name", req.name), project: req.project ? f.datasetName("project", req.project) : "", description: f.text("description", req.description, 64 * 1024) };
      return { pipeline: toPipeline(await pipelines.createPipeline(principalOf(ctx).orgId, input)) };
    },
    async getPipeline(req, ctx) {
      return { pipeline: toPipeline(await pipelines.getPipeline(principalOf(ctx).orgId, v.name("name", req.name))) };
    },
    async listPipelines(req, ctx) {
      const caller = principalOf(ctx);
      const page = await pipelines.listPipelines(caller.orgId, {
        project: req.project ? f.datasetName("project", req.project) : "",
        visibleProjectIds: readableProjects(caller),
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return { pipelines: page.items.map(toPipeline), nextPageToken: page.nextPageToken };
    },
    async startPipelineRun(req, ctx) {
      const run = await pipelines.startRun(principalOf(ctx).orgId, {
        pipeline: v.name("pipeline", req.pipeline),
        trigger: f.text("trigger", req.trigger, 256),
        params: v.params("params", req.params),
        requestId: req.requestId ? f.id("request_id", req.requestId) : "",
        createPipeline: req.createPipeline,
        project: req.project ? f.datasetName("project", req.project) : "",
      });
      return { run: toRun(run) };
    },
    async finishPipelineRun(req, ctx) {
      return { run: toRun(await pipelines.finishRun(principalOf(ctx).orgId, f.id("pipeline_run_id", req.pipelineRunId), v.runEndStatus("status", req.status))) };
    },
    async getPipelineRun(req, ctx) {
      const { run, steps, edges } = await pipelines.dag(principalOf(ctx).orgId, f.id("pipeline_run_id", req.pipelineRunId));
      return {
        run: { ...toRun(run), facets: facetsOf(run.facets) },
        steps: steps.map((s) => toStep(s, req.expandInstances || s.name === req.instancesOfStep)),
        edges: edges.map((e) => create(StepEdgeSchema, e)),
      };
    },
    async listPipelineRuns(req, ctx) {
      const page = await pipelines.listRuns(principalOf(ctx).orgId, v.name("pipeline", req.pipeline), {
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return { runs: page.items.map(toRun), nextPageToken: page.nextPageToken };
    },
    async startStep(req, ctx) {
      const { step, cached } = await pipelines.startStep(principalOf(ctx).orgId, {
        runId: f.id("pipeline_run_id", req.pipelineRunId),
        name: v.name("name", req.name),
        instance: v.instance("instance", req.instance),
        upstream: v.upstream("upstream", req.upstream),
        cacheKey: req.cacheKey ? f.text("cache_key", req.cacheKey, 256) : "",
        trackingRunId: req.runId ? f.id("run_id", req.runId) : "",
        inputs: v.io("inputs", req.inputs),
        pending: req.pending,
      });
      return { step: toInstance(step), cached };
    },
    async finishStep(req, ctx) {
      const { orgId } = principalOf(ctx);
      const done = await pipelines.finishStep(orgId, stepRef(req), v.endStatus("status", req.status), v.io("outputs", req.outputs), f.text("message", req.message, 4096));
      return { step: toInstance(done) };
    },
    async recordSteps(req, ctx) {
      const steps = v.recordedSteps(req);
      const recorded = await pipelines.recordSteps(principalOf(ctx).orgId, f.id("pipeline_run_id", req.pipelineRunId), steps);
      return { steps: recorded.map((r) => toInstance(r)) };
    },
    async recordStepIO(req, ctx) {
      const { orgId } = principalOf(ctx);
      const step = await pipelines.findStep(orgId, { stepId: f.id("step_id", req.stepId) });
      await pipelines.addIo(orgId, step, v.io("inputs", req.inputs), v.io("outputs", req.outputs));
      return {};
    },
    async getPipelineGraph(req, ctx) {
      const g = await pipelines.graph(principalOf(ctx).orgId, f.id("pipeline_run_id", req.pipelineRunId), req.expand);
      return {
        nodes: g.nodes.map((n) => create(PipelineGraphNodeSchema, { id: n.id, step: n.step, status: STEP_STATUS[n.status], instanceCount: n.instanceCount, layer: n.layer })),
        edges: g.edges.map((e) => create(StepEdgeSchema, e)),
        mermaid: g.mermaid,
        dot: g.dot,
      };
    },
  };
}
