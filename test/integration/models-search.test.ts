/**
 * SearchModelVersions on both backends: by the run's latest metrics and its
 * params, tags, framework and alias, sorted by a metric either way with the
 * versions lacking it last, and paged.
 */
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { ExperimentService, MetricPointSchema, MetricThreshold_Op as Op } from "../../gen/traintrack/v1/experiment_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SearchModelVersionsRequestSchema } from "../../gen/traintrack/v1/model_pb.js";
import { bytesOf, outcomeOf, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

type Search = MessageInitShape<typeof SearchModelVersionsRequestSchema>;

describe.each(backends())("SearchModelVersions on $name", (backend) => {
  let server: TestServer;
  const models = () => server.client(ModelService);
  let name = "";
  let other = "";

  /** A run with these params and metric series (one point per step, in order), holding "m/w.bin". */
  async function run(params: Record<string, string>, metrics: Record<string, number[]>) {
    const experiments = server.client(ExperimentService);
    const runId = (await experiments.createRun({ project: "search", experiment: "e" })).run?.runId ?? "";
    if (Object.keys(params).length > 0) await experiments.logParams({ runId, params });
    const points = Object.entries(metrics).flatMap(([key, values]) => values.map((value, i) => create(MetricPointSchema, { key, value, step: BigInt(i + 1) })));
    if (points.length > 0) await experiments.logMetrics({ runId, batchId: "b", points });
    const up = await upload(server.client(UploadService), "w.bin", bytesOf(64, Math.floor(Math.random() * 1e6)));
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: up.uploadId, path: "m/w.bin" }] });
    return runId;
  }

  async function register(model: string, runId: string, extra: { framework?: string; tags?: Record<string, string> } = {}) {
    return models().createModelVersion({ model, createModel: true, project: "search", source: { case: "runArtefacts", value: { runId, pathPrefix: "m/" } }, ...extra });
  }

  beforeAll(async () => {
    if (!backend.available) return;
    server = await startTestServer(backend.name);
    name = `churn-${uniqueSuffix()}`;
    other = `other-${uniqueSuffix()}`;
    // v1: auc was 0.95 at step 1 but is 0.80 now (the latest value counts).
    await register(name, await run({ depth: "4" }, { auc: [0.95, 0.8], loss: [0.3] }), { framework: "xgboost" });
    await register(name, await run({ depth: "6" }, { auc: [0.93], loss: [0.2] }), { framework: "xgboost", tags: { stage: "gold" } });
    await register(name, await run({ depth: "6" }, { loss: [0.5] }), { framework: "xgboost" });
    await register(name, await run({ depth: "8" }, { auc: [0.91] }), { framework: "onnx", tags: { stage: "gold", team: "x" } });
    const up = await upload(server.client(UploadService), "w.bin", bytesOf(64, 99));
    await models().createModelVersion({ model: name, source: { case: "uploads", value: { files: [{ uploadId: up.uploadId, path: "w.bin" }] } }, framework: "onnx" });
    await models().setModelAlias({ model: name, alias: "production", version: 4n });
    await register(other, await run({ depth: "6" }, { auc: [0.99] }), { framework: "xgboost", tags: { stage: "gold" } });
  });
  afterAll(async () => server?.close());

  /** The versions found: numbers for `name`'s, "model@n" for another model's. */
  const versions = async (req: Search) => (await models().searchModelVersions(req)).versions.map((v) => (v.model === name ? Number(v.version) : `${v.model}@${v.version}`));

  /** Every page of a search, `pageSize` at a time. */
  async function allPages(req: Search, pageSize: number) {
    const out: string[] = [];
    let pageToken = "";
    do {
      const page = await models().searchModelVersions({ ...req, pageSize, pageToken });
      out.push(...page.versions.map((v) => `${v.model}@${v.version}`));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  }

  describe.skipIf(!backend.available)("", () => {
    it("filters by the run's latest metrics, newest first", async () => {
      expect(await versions({ models: [name], runMetrics: [{ key: "auc", op: Op.GREATER, value: 0.9 }] })).toEqual([4, 2]);
      expect(await versions({ models: [name], runMetrics: [{ key: "auc", op: Op.LESS_OR_EQUAL, value: 0.8 }] })).toEqual([1]);
      expect(await versions({ models: [name], runMetrics: [{ key: "auc", op: Op.GREATER, value: 0.9 }, { key: "loss", op: Op.LESS, value: 0.25 }] })).toEqual([2]);
      expect(await versions({ models: [name], runMetrics: [{ key: "nonesuch", op: Op.GREATER, value: 0 }] })).toEqual([]);
    });

    it("filters by params, tags, framework and alias, alone and together", async () => {
      expect(await versions({ models: [name], runParams: { depth: "6" } })).toEqual([3, 2]);
      expect(await versions({ models: [name], tags: { stage: "gold" } })).toEqual([4, 2]);
      expect(await versions({ models: [name], tags: { stage: "gold", team: "x" } })).toEqual([4]);
      expect(await versions({ models: [name], framework: "onnx" })).toEqual([5, 4]);
      expect(await versions({ models: [name], alias: "production" })).toEqual([4]);
      expect(await versions({ models: [name], alias: "nobody" })).toEqual([]);
      expect(await versions({ models: [name], framework: "onnx", tags: { stage: "gold" }, runMetrics: [{ key: "auc", op: Op.GREATER, value: 0.9 }] })).toEqual([4]);
      expect(await versions({ models: [name], framework: "xgboost", runMetrics: [{ key: "auc", op: Op.GREATER, value: 0.9 }] })).toEqual([2]);
    });

    it("spans models unless asked for some, and tells them apart", async () => {
      expect(await versions({ runParams: { depth: "6" }, tags: { stage: "gold" } })).toEqual([`${other}@1`, 2]);
      expect(await versions({ models: [other], runMetrics: [{ key: "auc", op: Op.GREATER, value: 0.9 }] })).toEqual([`${other}@1`]);
    });

    it("sorts by a metric either way, versions without it last", async () => {
      const sorted = async (descending: boolean) =>
        (await models().searchModelVersions({ models: [name], orderByMetric: "auc", descending })).versions.map((v) => [Number(v.version), v.sortMetric]);
      expect(await sorted(false)).toEqual([[1, 0.8], [4, 0.91], [2, 0.93], [5, undefined], [3, undefined]]);
      expect(await sorted(true)).toEqual([[2, 0.93], [4, 0.91], [1, 0.8], [5, undefined], [3, undefined]]);
      expect(await versions({ models: [name], orderByMetric: "auc", descending: true, runMetrics: [{ key: "loss", op: Op.GREATER, value: 0 }] })).toEqual([2, 1, 3]);
    });

    it("shows a caller of one project only the versions and models of that project", async () => {
      const hidden = `hidden-${uniqueSuffix()}`;
      const up = await upload(server.client(UploadService), "h.bin", bytesOf(64, 7));
      await models().createModelVersion({ model: hidden, createModel: true, project: "elsewhere", source: { case: "uploads", value: { files: [{ uploadId: up.uploadId }] } } });
      const user = (await server.client(UserService).createUser({ userName: `v-${uniqueSuffix()}` })).user?.id ?? "";
      await server.client(AccessService).grantRole({ role: Role.VIEWER, userId: user, project: "search" });
      const key = (await server.client(ApiKeyService).createApiKey({ name: "k", userId: user })).secret;
      const theirs = server.client(ModelService, "grpc", key);
      const seen = (await theirs.searchModelVersions({ pageSize: 1000 })).versions.map((v) => v.model);
      expect(new Set(seen)).toEqual(new Set([name, other]));
      expect((await theirs.searchModelVersions({ models: [hidden] })).versions).toEqual([]);
      expect((await theirs.listRegisteredModels({})).models.map((m) => m.name).sort()).toEqual([name, other].sort());
      expect(await outcomeOf(theirs.getRegisteredModel({ name: hidden }))).toBe("PermissionDenied");
      // A key narrowed to one project sees that project only, whoever holds it.
      const narrowed = (await server.client(ApiKeyService).createApiKey({ name: "p", scope: ApiKeyScope.PROJECT, project: "elsewhere" })).secret;
      const onlyElsewhere = server.client(ModelService, "grpc", narrowed);
      expect((await onlyElsewhere.searchModelVersions({ pageSize: 1000 })).versions.map((v) => v.model)).toEqual([hidden]);
      expect((await onlyElsewhere.listRegisteredModels({})).models.map((m) => m.name)).toEqual([hidden]);
      // The owner sees both projects.
      expect((await models().searchModelVersions({ models: [hidden] })).versions.map((v) => v.model)).toEqual([hidden]);
    });

    it("returns each version with its aliases and file count as GetModelVersion does, and leaves its files to GetModelVersion", async () => {
      await models().setModelAlias({ model: name, alias: "candidate", version: 4n });
      const found = await models().searchModelVersions({ models: [name, other], orderByMetric: "auc" });
      expect(found.versions).toHaveLength(6);
      for (const v of found.versions) {
        const got = (await models().getModelVersion({ model: v.model, selector: { case: "version", value: v.version } })).version;
        expect({ files: v.files, aliases: v.aliases, fileCount: v.fileCount, runId: v.runId }).toEqual({ files: [], aliases: got?.aliases, fileCount: got?.fileCount, runId: got?.runId });
        expect(got?.files.length).toBe(got?.fileCount);
      }
      expect(found.versions.find((v) => v.model === name && v.version === 4n)?.aliases).toEqual(["candidate", "production"]);
      await models().deleteModelAlias({ model: name, alias: "candidate" });
    });

    it("pages through the same order it sorts by", async () => {
      const whole = await allPages({ models: [name, other], orderByMetric: "auc" }, 1000);
      expect(whole).toHaveLength(6);
      for (const size of [1, 2, 4]) expect(await allPages({ models: [name, other], orderByMetric: "auc" }, size)).toEqual(whole);
      expect(await allPages({ models: [name, other] }, 2)).toEqual(await allPages({ models: [name, other] }, 1000));
    });
  });
});
