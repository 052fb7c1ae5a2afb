/**
 * Data for the pipeline and lineage pages, recorded through the API as an
 * orchestrator and a training script would: a pipeline run with a failed
 * step (its downstream skipped) and a fan-out of 50, lineage from a dataset
 * through a run to a model version, and a 5,000-step DAG (the browser test
 * and bench/ui/dag.ts share it).
 */
import type { Client } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { PipelineRunStatus, PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { upload } from "../support/data.js";

export interface Clients {
  client<S extends DescService>(service: S): Client<S>;
}

export const FAN_OUT = 50;

/** A dataset version, a run that read it and a model version registered from the run's artefacts. */
export async function recordLineage(api: Clients, suffix: string) {
  const dataset = `customer_churn_${suffix}`;
  const model = `churn_xgb_${suffix}`;
  const up = await upload(api.client(UploadService), "churn.csv", Buffer.from("id,churned\n1,0\n2,1\n"));
  await api.client(DatasetService).createDataset({ name: dataset, version: "1.0.0", artefacts: [{ uploadId: up.uploadId }] });
  const experiments = api.client(ExperimentService);
  const runId = (await experiments.createRun({ project: `churn-${suffix}`, experiment: "xgb", name: "train-xgb" })).run?.runId ?? "";
  await experiments.useDatasets({ runId, datasets: [{ name: dataset, version: "1.0.0" }] });
  const weights = await upload(api.client(UploadService), "weights.bin", Buffer.from("weights"));
  await api.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: weights.uploadId, path: "model/weights.bin" }] });
  const version = (await api.client(ModelService).createModelVersion({ model, createModel: true, project: `churn-${suffix}`, source: { case: "runArtefacts", value: { runId, pathPrefix: "model/" } } })).version?.version ?? 0n;
  return { dataset, datasetVersion: "1.0.0", runId, model, modelVersion: version };
}

/**
 * "nightly-churn": extract → features → train (fails) → evaluate → publish
 * (both skipped), and features → score, a fan-out of 50 that succeeds. The
 * run ends FAILED.
 */
export async function recordFailedPipelineRun(api: Clients, suffix: string, lineage: { dataset: string; datasetVersion: string; runId: string; model: string; modelVersion: bigint }) {
  const pipelines = api.client(PipelineService);
  const pipeline = `nightly-churn-${suffix}`;
  const run = (await pipelines.startPipelineRun({ pipeline, createPipeline: true, project: `churn-${suffix}`, trigger: "schedule", params: { date: "2026-11-29" } })).run;
  const pipelineRunId = run?.id ?? "";
  const step = (name: string, upstream: string[], more: { pending?: boolean; runId?: string } = {}) => pipelines.startStep({ pipelineRunId, name, upstream, ...more });
  const raw = { ref: { case: "external" as const, value: { namespace: "s3://raw", name: "churn/2026-11-29", facets: "" } } };
  const data = { ref: { case: "dataset" as const, value: { name: lineage.dataset, version: lineage.datasetVersion } } };
  const model = { ref: { case: "model" as const, value: { model: lineage.model, version: lineage.modelVersion } } };

  await step("extract", []);
  await pipelines.finishStep({ pipelineRunId, name: "extract", status: StepStatus.SUCCEEDED, outputs: [raw] });
  await pipelines.startStep({ pipelineRunId, name: "features", upstream: ["extract"], inputs: [raw] });
  await pipelines.finishStep({ pipelineRunId, name: "features", status: StepStatus.SUCCEEDED, outputs: [data] });
  await step("train", ["features"], { runId: lineage.runId });
  await step("evaluate", ["train"], { pending: true });
  await step("publish", ["evaluate"], { pending: true });
  await pipelines.finishStep({ pipelineRunId, name: "train", status: StepStatus.FAILED, message: "CUDA out of memory", outputs: [model] });
  await pipelines.recordSteps({ pipelineRunId, steps: Array.from({ length: FAN_OUT }, (_, instance) => ({ name: "score", instance, upstream: ["features"], status: StepStatus.SUCCEEDED })) });
  await pipelines.finishPipelineRun({ pipelineRunId, status: PipelineRunStatus.FAILED });
  return { pipeline, pipelineRunId };
}

/**
 * A DAG of `layers` × `width` steps, each after two steps of the layer before,
 * recorded with RecordSteps 1,000 at a time (as an orchestrator's bulk
 * intake would). All succeed but a few of the last layer; the run ends FAILED.
 */
export async function recordBigDag(api: Clients, pipeline: string, layers = 20, width = 250) {
  const pipelines = api.client(PipelineService);
  const pipelineRunId = (await pipelines.startPipelineRun({ pipeline, createPipeline: true, project: "big" })).run?.id ?? "";
  const name = (layer: number, i: number) => `l${layer}-s${i}`;
  const all = [];
  for (let layer = 0; layer < layers; layer++) {
    for (let i = 0; i < width; i++) {
      const upstream = layer === 0 ? [] : [...new Set([name(layer - 1, i), name(layer - 1, (i * 7 + 3) % width)])];
      const failed = layer === layers - 1 && i % 50 === 0;
      all.push({ name: name(layer, i), upstream, status: failed ? StepStatus.FAILED : StepStatus.SUCCEEDED, message: failed ? "exit code 1" : "" });
    }
  }
  for (let at = 0; at < all.length; at += 1000) await pipelines.recordSteps({ pipelineRunId, steps: all.slice(at, at + 1000) });
  await pipelines.finishPipelineRun({ pipelineRunId, status: PipelineRunStatus.FAILED });
  return { pipelineRunId, steps: all.length };
}
