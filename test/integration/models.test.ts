/**
 * The model registry as users rely on it, on both backends: versions from a
 * run's artefacts (no byte copied) or from uploads, aliases and their
 * history, search by the run's metrics, downloads, and the lineage graph.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService, MetricThreshold_Op } from "../../gen/traintrack/v1/experiment_pb.js";
import { LineageEdgeKind, LineageNodeKind, LineageService } from "../../gen/traintrack/v1/lineage_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { MetricPointSchema } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { bytesOf, sha256, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

describe.each(backends())("the model registry on $name", (backend) => {
  let server: TestServer;
  let n = 0;
  const models = () => server.client(ModelService);

  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  /** A run in a fresh project that read a dataset version, logged `auc`, and holds model files under "model/". */
  async function trainedRun(auc: number, files: Record<string, Buffer>) {
    const project = `churn${++n}`;
    const dataName = `customers${n}`;
    const data = await upload(server.client(UploadService), "train.csv", Buffer.from("a,b\n1,2\n"));
    await server.client(DatasetService).createDataset({ name: dataName, version: "1", artefacts: [{ uploadId: data.uploadId }] });
    const experiments = server.client(ExperimentService);
    const runId = (await experiments.createRun({ project, experiment: "xgb" })).run?.runId ?? "";
    await experiments.useDatasets({ runId, datasets: [{ name: dataName, version: "1" }] });
    await experiments.logMetrics({ runId, batchId: `b${n}`, points: [create(MetricPointSchema, { key: "auc", value: auc, step: 1n, timestamp: timestampFromDate(new Date()) })] });
    const sources = [];
    for (const [path, bytes] of Object.entries(files)) {
      const up = await upload(server.client(UploadService), path.split("/").pop() ?? path, bytes);
      sources.push({ uploadId: up.uploadId, path: `model/${path}` });
    }
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: sources });
    return { project, runId, dataName };
  }

  describe.skipIf(!backend.available)("", () => {
    it("registers a run's artefacts as a version, moves aliases with history, searches, downloads and walks lineage", async () => {
      const weights = bytesOf(3 * 1024 * 1024 + 7, 1);
      const config = Buffer.from(`{"depth": 6}`);
      const a = await trainedRun(0.93, { "weights.bin": weights, "config.json": config });
      const name = `churn-xgb-${n}`;
      const made = await models().createModelVersion({
        model: name,
        createModel: true,
        project: a.project,
        source: { case: "runArtefacts", value: { runId: a.runId, pathPrefix: "model/" } },
        framework: "xgboost",
        signature: JSON.stringify({ inputs: ["x"], outputs: ["y"] }),
        requestId: "r1",
      });
      expect(made.created).toBe(true);
      expect(made.version?.version).toBe(1n);
      expect(made.version?.files.map((f) => f.path).sort()).toEqual(["config.json", "weights.bin"]);
      // The same request again: the same version.
      const again = await models().createModelVersion({
        model: name,
        createModel: true,
        project: a.project,
        source: { case: "runArtefacts", value: { runId: a.runId, pathPrefix: "model/" } },
        framework: "xgboost",
        signature: JSON.stringify({ inputs: ["x"], outputs: ["y"] }),
        requestId: "r1",
      });
      expect({ created: again.created, version: again.version?.version }).toEqual({ created: false, version: 1n });

      const b = await trainedRun(0.81, { "weights.bin": Buffer.from("other") });
      await models().createModelVersion({ model: name, source: { case: "runArtefacts", value: { runId: b.runId, pathPrefix: "model/" } } });
      const before = new Date();
      await models().setModelAlias({ model: name, alias: "production", version: 1n, reason: "auc 0.93" });
      await new Promise((r) => setTimeout(r, 20));
      const between = new Date();
      await models().setModelAlias({ model: name, alias: "production", version: 2n, reason: "try v2" });
      const got = await models().getModelVersion({ model: name, selector: { case: "alias", value: "production" } });
      expect(got.version?.version).toBe(2n);
      const history = await models().getModelAliasHistory({ model: name, alias: "production", at: timestampFromDate(between) });
      expect(history.moves.map((m) => [m.fromVersion, m.toVersion, m.reason])).toEqual([
        [1n, 2n, "try v2"],
        [0n, 1n, "auc 0.93"],
      ]);
      expect(history.versionAt).toBe(1n);
      expect((await models().getModelAliasHistory({ model: name, alias: "production", at: timestampFromDate(new Date(before.getTime() - 1000)) })).versionAt).toBe(0n);

      const found = await models().searchModelVersions({
        models: [name],
        runMetrics: [{ key: "auc", op: MetricThreshold_Op.GREATER, value: 0.9 }],
        orderByMetric: "auc",
        descending: true,
      });
      expect(found.versions.map((v) => [v.version, v.sortMetric])).toEqual([[1n, 0.93]]);

      const parts: Buffer[] = [];
      let described: { sha256: string } | undefined;
      for await (const m of models().downloadModelFile({ model: name, selector: { case: "version", value: 1n }, path: "weights.bin" })) {
        if (m.payload.case === "file") described = m.payload.value;
        else if (m.payload.case === "chunk") parts.push(Buffer.from(m.payload.value));
      }
      expect({ sha: sha256(Buffer.concat(parts)), described: described?.sha256 }).toEqual({ sha: sha256(weights), described: sha256(weights) });

      const graph = await server.client(LineageService).getLineageGraph({ start: { case: "model", value: { model: name, version: 1n } }, depth: 3 });
      expect(graph.nodes.map((x) => [x.kind, x.id]).sort()).toEqual(
        [
          [LineageNodeKind.DATASET_VERSION, `dataset:${a.dataName}@1`],
          [LineageNodeKind.RUN, `run:${a.runId}`],
          [LineageNodeKind.MODEL_VERSION, `model:${name}@1`],
        ].sort(),
      );
      expect(graph.edges.map((e) => [e.kind, e.from, e.to]).sort()).toEqual(
        [
          [LineageEdgeKind.READ_BY, `dataset:${a.dataName}@1`, `run:${a.runId}`],
          [LineageEdgeKind.REGISTERED_AS, `run:${a.runId}`, `model:${name}@1`],
        ].sort(),
      );
    });
  });
});
