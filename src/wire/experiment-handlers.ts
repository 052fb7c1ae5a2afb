import { create } from "@bufbuild/protobuf";
import { timestampFromDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type Experiment,
  ExperimentSchema,
  type ExperimentService,
  type MetricPoint,
  MetricPointSchema,
  type Run,
  RunSchema,
  RunStatus,
} from "../../gen/traintrack/v1/experiment_pb.js";
import type { RunStatus as Status } from "../db/schema.js";
import type { ExperimentService as Experiments, ExperimentView } from "../services/experiments.js";
import type { MetricsService, PointView } from "../services/metrics.js";
import type { RunService, RunView } from "../services/runs.js";
import { principalOf } from "./interceptors/auth.js";
import * as v from "./validate/experiments.js";
import * as f from "./validate/fields.js";
import * as m from "./validate/metrics.js";

const STATUSES: Record<Status, RunStatus> = {
  running: RunStatus.RUNNING,
  finished: RunStatus.FINISHED,
  failed: RunStatus.FAILED,
  killed: RunStatus.KILLED,
};

function toExperiment(e: ExperimentView): Experiment {
  return create(ExperimentSchema, { project: e.project, name: e.name, description: e.description, createdAt: timestampFromDate(e.createdAt) });
}

function toRun(r: RunView): Run {
  return create(RunSchema, {
    runId: r.id,
    project: r.project,
    experiment: r.experiment,
    name: r.name,
    status: STATUSES[r.status],
    startTime: timestampFromDate(r.startTime),
    endTime: r.endTime ? timestampFromDate(r.endTime) : undefined,
    tags: r.tags,
    params: r.params,
    inputs: r.inputs,
    group: r.group,
    rank: r.rank ?? undefined,
    host: r.host,
    latestMetrics: r.latestMetrics.map((p) => ({ key: p.key, value: p.value, step: BigInt(p.step), timestamp: timestampFromMs(p.tsMs) })),
    latestMetricsTruncated: r.latestMetricsTruncated,
  });
}

function toPoint(key: string, p: PointView): MetricPoint {
  return create(MetricPointSchema, {
    key,
    value: p.value,
    step: BigInt(p.step),
    timestamp: timestampFromMs(p.tsMs),
    worker: p.rank !== null || p.host ? { rank: p.rank ?? 0, host: p.host } : undefined,
  });
}

export function experimentHandlers(deps: { experiments: Experiments; runs: RunService; metrics: MetricsService }): ServiceImpl<typeof ExperimentService> {
  const { experiments, runs, metrics } = deps;
  return {
    async createExperiment(req, ctx) {
      const input = {
        project: f.datasetName("project", req.project),
        name: f.datasetName("name", req.name),
        description: f.text("description", req.description, 4096),
      };
      return { experiment: toExperiment(await experiments.createExperiment(principalOf(ctx).orgId, input)) };
    },
    async getExperiment(req, ctx) {
      const key = { project: f.datasetName("project", req.project), name: f.datasetName("name", req.name) };
      return { experiment: toExperiment(await experiments.getExperiment(principalOf(ctx).orgId, key)) };
    },
    async listExperiments(req, ctx) {
      const page = await experiments.listExperiments(principalOf(ctx).orgId, {
        project: f.datasetName("project", req.project),
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return { experiments: page.items.map(toExperiment), nextPageToken: page.nextPageToken };
    },
    async createRun(req, ctx) {
      return { run: toRun(await runs.create(principalOf(ctx).orgId, v.createRun(req))) };
    },
    async getRun(req, ctx) {
      return { run: toRun(await runs.get(principalOf(ctx).orgId, f.id("run_id", req.runId))) };
    },
    async listRuns(req, ctx) {
      const page = await runs.search(principalOf(ctx).orgId, v.listRuns(req));
      return { runs: page.items.map(toRun), nextPageToken: page.nextPageToken };
    },
    async searchRuns(req, ctx) {
      const page = await runs.search(principalOf(ctx).orgId, v.searchRuns(req));
      return { runs: page.items.map(toRun), nextPageToken: page.nextPageToken };
    },
    async updateRunStatus(req, ctx) {
      return { run: toRun(await runs.updateStatus(principalOf(ctx).orgId, f.id("run_id", req.runId), v.status("status", req.status))) };
    },
    async setRunTags(req, ctx) {
      const { set, remove } = v.setTags(req);
      return { run: toRun(await runs.setTags(principalOf(ctx).orgId, f.id("run_id", req.runId), set, remove)) };
    },
    async logParams(req, ctx) {
      return { run: toRun(await runs.logParams(principalOf(ctx).orgId, f.id("run_id", req.runId), v.entries("params", req.params))) };
    },
    async useDatasets(req, ctx) {
      return { run: toRun(await runs.useDatasets(principalOf(ctx).orgId, f.id("run_id", req.runId), v.useDatasets(req))) };
    },
    async logMetrics(req, ctx) {
      const result = await metrics.log(principalOf(ctx).orgId, m.metricBatch(req));
      return { pointsAccepted: BigInt(result.pointsAccepted), deduplicated: result.deduplicated };
    },
    async streamMetrics(requests, ctx) {
      // Each message is checked as it arrives and written before the next is read.
      async function* batches() {
        for await (const req of requests) yield m.metricBatch(req);
      }
      const totals = await metrics.logStream(principalOf(ctx).orgId, batches());
      return { ...totals, pointsAccepted: BigInt(totals.pointsAccepted) };
    },
    async getMetricHistory(req, ctx) {
      const result = await metrics.history(principalOf(ctx).orgId, m.history(req));
      return {
        series: result.series.map((s) => ({
          runId: s.runId,
          key: s.key,
          points: s.points.map((p) => toPoint(s.key, p)),
          downsampled: s.downsampled,
        })),
        nextPageToken: result.nextPageToken,
      };
    },
  };
}
