/**
 * GetLineageGraph across dataset → derived dataset → run → model, on both
 * backends: downstream from the data to the models trained on it, upstream
 * from a model to its run, its datasets and their ancestors; depth,
 * direction, kinds and max_nodes; and a caller of one project sees only its
 * project's nodes.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import {
  type GetLineageGraphRequestSchema,
  LineageDirection,
  LineageEdgeKind as E,
  LineageNodeKind as K,
  LineageService,
} from "../../gen/traintrack/v1/lineage_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { bytesOf, outcomeOf, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

type GraphRequest = MessageInitShape<typeof GetLineageGraphRequestSchema>;

describe.each(backends())("the lineage graph on $name", (backend) => {
  let server: TestServer;
  const s = uniqueSuffix();
  const raw = `raw-${s}`;
  const clean = `clean-${s}`;
  const alpha = `alpha-${s}`;
  const beta = `beta-${s}`;
  const modelA = `model-a-${s}`;
  const modelB = `model-b-${s}`;
  let runA = "";
  let runB = "";
  let alphaViewerKey = "";

  /** A run in `project` that read `dataset`@1 and holds "m/w.bin". */
  async function trainedRun(project: string, dataset: string) {
    const experiments = server.client(ExperimentService);
    const runId = (await experiments.createRun({ project, experiment: "e" })).run?.runId ?? "";
    await experiments.useDatasets({ runId, datasets: [{ name: dataset, version: "1" }] });
    const up = await upload(server.client(UploadService), "w.bin", bytesOf(64, Math.floor(Math.random() * 1e6)));
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: up.uploadId, path: "m/w.bin" }] });
    return runId;
  }

  beforeAll(async () => {
    if (!backend.available) return;
    server = await startTestServer(backend.name);
    const datasets = server.client(DatasetService);
    const models = server.client(ModelService);
    await datasets.createDataset({ name: raw, version: "1", artefacts: [{ uploadId: (await upload(server.client(UploadService), "r.csv", Buffer.from("r"))).uploadId }] });
    await datasets.createDataset({
      name: clean,
      version: "1",
      artefacts: [{ uploadId: (await upload(server.client(UploadService), "c.csv", Buffer.from("c"))).uploadId }],
      derivedFrom: [{ name: raw, version: "1" }],
    });
    // Run A (project alpha) registers its artefacts; run B (project beta) made a version uploaded apart (produced).
    runA = await trainedRun(alpha, clean);
    runB = await trainedRun(beta, clean);
    await models.createModelVersion({ model: modelA, createModel: true, project: alpha, source: { case: "runArtefacts", value: { runId: runA, pathPrefix: "m/" } } });
    const up = await upload(server.client(UploadService), "b.bin", bytesOf(64, 5));
    await models.createModelVersion({ model: modelB, createModel: true, project: beta, runId: runB, source: { case: "uploads", value: { files: [{ uploadId: up.uploadId, path: "b.bin" }] } } });
    const user = (await server.client(UserService).createUser({ userName: `alpha-${s}` })).user?.id ?? "";
    await server.client(AccessService).grantRole({ role: Role.VIEWER, userId: user, project: alpha });
    alphaViewerKey = (await server.client(ApiKeyService).createApiKey({ name: "k", userId: user, scope: ApiKeyScope.ALL })).secret;
  });
  afterAll(async () => server?.close());

  const graph = async (req: GraphRequest, key?: string) => {
    const g = await server.client(LineageService, "grpc", key).getLineageGraph(req);
    return {
      nodes: g.nodes.map((n) => `${K[n.kind]} ${n.id} ${n.distance}`).sort(),
      edges: g.edges.map((e) => `${e.from} ${E[e.kind]} ${e.to}`).sort(),
      truncated: g.truncated,
    };
  };
  const fromRaw = (more: Omit<GraphRequest, "start" | "$typeName"> = {}): GraphRequest => ({ start: { case: "dataset", value: { name: raw, version: "1" } }, ...more });
  const fromModelA = (more: Omit<GraphRequest, "start" | "$typeName"> = {}): GraphRequest => ({ start: { case: "model", value: { model: modelA, version: 1n } }, ...more });
  const ds = (name: string) => `dataset:${name}@1`;

  describe.skipIf(!backend.available)("", () => {
    it("walks downstream from a dataset to the derived one, the runs that read it and the models they made", async () => {
      const g = await graph(fromRaw({ direction: LineageDirection.DOWNSTREAM, depth: 3 }));
      expect(g.nodes).toEqual(
        [
          `DATASET_VERSION ${ds(raw)} 0`,
          `DATASET_VERSION ${ds(clean)} 1`,
          `RUN run:${runA} 2`,
          `RUN run:${runB} 2`,
          `MODEL_VERSION model:${modelA}@1 3`,
          `MODEL_VERSION model:${modelB}@1 3`,
        ].sort(),
      );
      expect(g.edges).toEqual(
        [
          `${ds(raw)} DERIVED_FROM ${ds(clean)}`,
          `${ds(clean)} READ_BY run:${runA}`,
          `${ds(clean)} READ_BY run:${runB}`,
          `run:${runA} REGISTERED_AS model:${modelA}@1`,
          `run:${runB} PRODUCED model:${modelB}@1`,
        ].sort(),
      );
      expect(g.truncated).toBe(false);
    });

    it("walks upstream from a model to its run, its datasets and their ancestors", async () => {
      const g = await graph(fromModelA({ direction: LineageDirection.UPSTREAM, depth: 5 }));
      expect(g.nodes).toEqual([`MODEL_VERSION model:${modelA}@1 0`, `RUN run:${runA} 1`, `DATASET_VERSION ${ds(clean)} 2`, `DATASET_VERSION ${ds(raw)} 3`].sort());
      expect(g.edges).toEqual([`run:${runA} REGISTERED_AS model:${modelA}@1`, `${ds(clean)} READ_BY run:${runA}`, `${ds(raw)} DERIVED_FROM ${ds(clean)}`].sort());
    });

    it("stops at the depth asked, goes one way only, and filters kinds while walking through them", async () => {
      expect((await graph(fromRaw({ direction: LineageDirection.DOWNSTREAM, depth: 1 }))).nodes).toEqual([`DATASET_VERSION ${ds(raw)} 0`, `DATASET_VERSION ${ds(clean)} 1`].sort());
      expect((await graph(fromRaw({ direction: LineageDirection.DOWNSTREAM, depth: 2 }))).nodes).toHaveLength(4);
      expect((await graph(fromRaw({ direction: LineageDirection.UPSTREAM, depth: 5 }))).nodes).toEqual([`DATASET_VERSION ${ds(raw)} 0`]);
      expect((await graph(fromModelA({ direction: LineageDirection.DOWNSTREAM, depth: 5 }))).nodes).toEqual([`MODEL_VERSION model:${modelA}@1 0`]);
      const models = await graph(fromRaw({ direction: LineageDirection.DOWNSTREAM, depth: 3, kinds: [K.MODEL_VERSION] }));
      expect(models).toEqual({ nodes: [`MODEL_VERSION model:${modelA}@1 3`, `MODEL_VERSION model:${modelB}@1 3`].sort(), edges: [], truncated: false });
      const data = await graph(fromModelA({ direction: LineageDirection.UPSTREAM, depth: 5, kinds: [K.DATASET_VERSION] }));
      expect(data.nodes).toEqual([`DATASET_VERSION ${ds(clean)} 2`, `DATASET_VERSION ${ds(raw)} 3`].sort());
      expect(data.edges).toEqual([`${ds(raw)} DERIVED_FROM ${ds(clean)}`]);
      // Both ways from a run: its data upstream and its model downstream, not the other run's.
      const both = await graph({ start: { case: "runId", value: runA }, depth: 1 });
      expect(both.nodes).toEqual([`RUN run:${runA} 0`, `DATASET_VERSION ${ds(clean)} 1`, `MODEL_VERSION model:${modelA}@1 1`].sort());
    });

    it("says when max_nodes cut the graph short", async () => {
      const g = await graph(fromRaw({ direction: LineageDirection.DOWNSTREAM, depth: 3, maxNodes: 3 }));
      expect(g.nodes.length).toBeLessThanOrEqual(3);
      expect(g.truncated).toBe(true);
      // Nearest first: what is there is the start and its nearest neighbours.
      expect(g.nodes).toContain(`DATASET_VERSION ${ds(raw)} 0`);
      expect(g.nodes).toContain(`DATASET_VERSION ${ds(clean)} 1`);
      for (const e of g.edges) expect(g.nodes.some((n) => n.includes(` ${e.split(" ")[0]} `))).toBe(true);
    });

    it("shows a caller of one project only the nodes of its project", async () => {
      const g = await graph(fromModelA({ depth: 5 }), alphaViewerKey);
      expect(g.nodes.join(" ")).not.toContain(runB);
      expect(g.nodes.join(" ")).not.toContain(modelB);
      expect(g.nodes).toContain(`MODEL_VERSION model:${modelA}@1 0`);
      expect(g.nodes).toContain(`RUN run:${runA} 1`);
      for (const e of g.edges) expect(e).not.toMatch(new RegExp(`${runB}|${modelB}`));
      expect(await outcomeOf(server.client(LineageService, "grpc", alphaViewerKey).getLineageGraph({ start: { case: "model", value: { model: modelB, version: 1n } } }))).toBe("PermissionDenied");
      expect(await outcomeOf(server.client(LineageService, "grpc", alphaViewerKey).getLineageGraph({ start: { case: "runId", value: runB } }))).toBe("PermissionDenied");
    });

    it("finds nothing of ours for another organisation", async () => {
      const key = await server.newOrganization();
      const lineage = server.client(LineageService, "grpc", key);
      expect(await outcomeOf(lineage.getLineageGraph(fromRaw()))).toBe("NotFound");
      expect(await outcomeOf(lineage.getLineageGraph(fromModelA()))).toBe("NotFound");
      expect(await outcomeOf(lineage.getLineageGraph({ start: { case: "runId", value: runA } }))).toBe("NotFound");
    });
  });
});
