/**
 * "Which pipeline produced this model, from what data" in one call, on both
 * backends: a pipeline step tracked as a run that read a dataset version and
 * registered a model version, which the step lists as its output. The lineage
 * graph joins pipeline run → step → run → model and dataset, both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { LineageDirection, LineageEdgeKind, LineageNodeKind, LineageService } from "../../gen/traintrack/v1/lineage_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { PipelineRunStatus, PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { bytesOf, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

describe.each(backends())("pipelines in the lineage graph on $name", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  it.skipIf(!backend.available)("walks model → step, run, pipeline run and dataset upstream, and dataset → step, run, model downstream", async () => {
    const pipelines = server.client(PipelineService);
    const lineage = server.client(LineageService);
    const experiments = server.client(ExperimentService);
    const data = await upload(server.client(UploadService), "customers.csv", Buffer.from("id,churned\n1,0\n"));
    await server.client(DatasetService).createDataset({ name: "customers", version: "1", artefacts: [{ uploadId: data.uploadId }] });

    const plr = (await pipelines.startPipelineRun({ pipeline: "nightly-churn", createPipeline: true, project: "churn" })).run?.id ?? "";
    const runId = (await experiments.createRun({ project: "churn", experiment: "nightly" })).run?.runId ?? "";
    const customers = { ref: { case: "dataset" as const, value: { name: "customers", version: "1" } } };
    const train = await pipelines.startStep({ pipelineRunId: plr, name: "train", runId, inputs: [customers] });
    // The run does what a training script does: reads the data, writes the model's files, registers them.
    await experiments.useDatasets({ runId, datasets: [{ name: "customers", version: "1" }] });
    const weights = await upload(server.client(UploadService), "weights.bin", bytesOf(4096, 3));
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: weights.uploadId, path: "model/weights.bin" }] });
    const made = await server.client(ModelService).createModelVersion({
      model: "churn-xgb",
      createModel: true,
      project: "churn",
      source: { case: "runArtefacts", value: { runId, pathPrefix: "model/" } },
    });
    const version = made.version?.version ?? 0n;
    await pipelines.finishStep({ stepId: train.step?.id ?? "", status: StepStatus.SUCCEEDED, outputs: [{ ref: { case: "model", value: { model: "churn-xgb", version } } }] });
    await pipelines.finishPipelineRun({ pipelineRunId: plr, status: PipelineRunStatus.SUCCEEDED });

    const step = `step:${plr}/train`;
    const model = `model:churn-xgb@${version}`;
    const dataset = "dataset:customers@1";
    const edgesOf = (g: { edges: { kind: LineageEdgeKind; from: string; to: string }[] }) => g.edges.map((e) => [LineageEdgeKind[e.kind], e.from, e.to]);

    const up = await lineage.getLineageGraph({ start: { case: "model", value: { model: "churn-xgb", version } }, depth: 3, direction: LineageDirection.UPSTREAM });
    expect(up.nodes.map((x) => x.id).sort()).toEqual([dataset, model, `pipeline-run:${plr}`, `run:${runId}`, step].sort());
    expect(edgesOf(up)).toEqual(
      expect.arrayContaining([
        ["PRODUCED", step, model],
        ["TRACKED_AS", step, `run:${runId}`],
        ["CONTAINS", `pipeline-run:${plr}`, step],
        ["READ_BY", dataset, step],
        ["READ_BY", dataset, `run:${runId}`],
      ]),
    );
    expect(edgesOf(up).some(([, from, to]) => from === `run:${runId}` && to === model)).toBe(true);
    const stepNode = up.nodes.find((x) => x.id === step);
    expect({ kind: stepNode?.kind, pipelineRunId: stepNode?.pipelineRunId, step: stepNode?.step, distance: stepNode?.distance }).toEqual({
      kind: LineageNodeKind.PIPELINE_STEP,
      pipelineRunId: plr,
      step: "train",
      distance: 1,
    });
    expect(up.nodes.find((x) => x.id === `pipeline-run:${plr}`)?.label).toContain("nightly-churn");

    const down = await lineage.getLineageGraph({ start: { case: "dataset", value: { name: "customers", version: "1" } }, depth: 3, direction: LineageDirection.DOWNSTREAM });
    expect(down.nodes.map((x) => x.id)).toEqual(expect.arrayContaining([dataset, step, `run:${runId}`, model]));
    // Downstream of the data is what came of it, not the pipeline run that holds the step.
    expect(down.nodes.map((x) => x.id)).not.toContain(`pipeline-run:${plr}`);
    expect(edgesOf(down)).toEqual(expect.arrayContaining([["READ_BY", dataset, step], ["PRODUCED", step, model], ["TRACKED_AS", step, `run:${runId}`]]));

    // The pipeline run's own view names the same things.
    const dag = await pipelines.getPipelineRun({ pipelineRunId: plr });
    const trained = dag.steps.find((s) => s.name === "train");
    expect(trained?.inputs.map((i) => i.ref)).toEqual([{ case: "dataset", value: expect.objectContaining({ name: "customers", version: "1" }) }]);
    expect(trained?.outputs.map((o) => o.ref)).toEqual([{ case: "model", value: expect.objectContaining({ model: "churn-xgb", version }) }]);
  });
});
