/**
 * CreateModelVersion under retries (request_id), another organisation's view
 * of our registry, and the bad inputs, on both backends: each refused with
 * the code a client can act on, and nothing committed.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { ExperimentService, MetricThreshold_Op } from "../../gen/traintrack/v1/experiment_pb.js";
import { type CreateModelVersionRequestSchema, type CreateModelVersionResponse, ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { bytesOf, outcomeOf, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

type CreateVersion = MessageInitShape<typeof CreateModelVersionRequestSchema>;
/** What a test changes in a version request from a run's artefacts. */
interface VersionChanges {
  createModel?: boolean;
  project?: string;
  framework?: string;
  signature?: string;
  tags?: Record<string, string>;
  requestId?: string;
  runId?: string;
  source?: { case: "runArtefacts"; value: { runId: string; pathPrefix: string } };
}

describe.each(backends())("model registry requests on $name", (backend) => {
  let server: TestServer;
  const models = (key?: string) => server.client(ModelService, "grpc", key);
  let runId = "";
  let name = "";

  async function newRun(project = "req") {
    const runId = (await server.client(ExperimentService).createRun({ project, experiment: "e" })).run?.runId ?? "";
    const up = await upload(server.client(UploadService), "w.bin", bytesOf(1000, Math.floor(Math.random() * 1e6)));
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: up.uploadId, path: "model/w.bin" }] });
    return runId;
  }
  const fromRun = (model: string, more: VersionChanges = {}): CreateVersion => ({ model, source: { case: "runArtefacts", value: { runId, pathPrefix: "model/" } }, ...more });
  const latest = async (model: string) => (await models().getRegisteredModel({ name: model })).model?.latestVersion;

  beforeAll(async () => {
    if (!backend.available) return;
    server = await startTestServer(backend.name);
    runId = await newRun();
    name = `req-${uniqueSuffix()}`;
    await models().createModelVersion(fromRun(name, { createModel: true, project: "req" }));
    await models().setModelAlias({ model: name, alias: "production", version: 1n });
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available)("", () => {
    it("answers a retry with the version it made, and a different request under the same request_id with ALREADY_EXISTS", async () => {
      const model = `retry-${uniqueSuffix()}`;
      const opts: VersionChanges = { createModel: true, framework: "xgboost", signature: "{}", tags: { a: "1" }, requestId: "req-1" };
      const req = fromRun(model, opts);
      const first = await models().createModelVersion(req);
      const again = await models().createModelVersion(req);
      expect({ created: first.created, v: first.version?.version }).toEqual({ created: true, v: 1n });
      expect({ created: again.created, v: again.version?.version, files: again.version?.files }).toEqual({ created: false, v: 1n, files: first.version?.files });
      for (const changed of [{ framework: "onnx" }, { tags: { a: "2" } }, { source: { case: "runArtefacts" as const, value: { runId, pathPrefix: "" } } }]) {
        expect(await outcomeOf(models().createModelVersion(fromRun(model, { ...opts, ...changed })))).toBe("AlreadyExists");
      }
      expect(await latest(model)).toBe(1n);
      // Another request_id is another version.
      expect((await models().createModelVersion(fromRun(model, { ...opts, requestId: "req-2" }))).version?.version).toBe(2n);
    });

    it("answers a retry of a version made from uploads, whose uploads are already committed", async () => {
      const model = `retry-up-${uniqueSuffix()}`;
      const up = await upload(server.client(UploadService), "u.bin", bytesOf(5000, 3));
      const req: CreateVersion = { model, createModel: true, requestId: "up-1", source: { case: "uploads", value: { files: [{ uploadId: up.uploadId, path: "u.bin" }] } } };
      const first = await models().createModelVersion(req);
      const again = await models().createModelVersion(req);
      expect({ created: again.created, v: again.version?.version }).toEqual({ created: false, v: first.version?.version });
      expect(await latest(model)).toBe(1n);
    });

    it("makes one version of concurrent identical requests with the same request_id", async () => {
      const model = `race-${uniqueSuffix()}`;
      await models().createRegisteredModel({ name: model });
      const runs = await Promise.all(Array.from({ length: 10 }, () => models().createModelVersion(fromRun(model, { requestId: "same" }))));
      expect(new Set(runs.map((r) => r.version?.version))).toEqual(new Set([1n]));
      expect(runs.filter((r) => r.created)).toHaveLength(1);
      expect(await latest(model)).toBe(1n);

      const uploaded = await Promise.all(Array.from({ length: 3 }, async (_, i) => upload(server.client(UploadService), `f${i}.bin`, bytesOf(2000, 40 + i))));
      const req: CreateVersion = { model, requestId: "same-uploads", source: { case: "uploads", value: { files: uploaded.map((u, i) => ({ uploadId: u.uploadId, path: `f${i}.bin` })) } } };
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => models().createModelVersion(req).then((r) => r, (e: unknown) => ConnectError.from(e))));
      const answered = outcomes.filter((o): o is CreateModelVersionResponse => !(o instanceof ConnectError));
      expect(outcomes.filter((o) => o instanceof ConnectError).map(String)).toEqual([]);
      expect(new Set(answered.map((r) => r.version?.version))).toEqual(new Set([2n]));
      expect(answered.filter((r) => r.created)).toHaveLength(1);
      expect(await latest(model)).toBe(2n);
    });

    it("shows another organisation nothing of ours, and lets it use the same names apart", async () => {
      const key = await server.newOrganization();
      const theirs = models(key);
      expect(await outcomeOf(theirs.getRegisteredModel({ name }))).toBe("NotFound");
      expect(await outcomeOf(theirs.getModelVersion({ model: name, selector: { case: "version", value: 1n } }))).toBe("NotFound");
      expect(await outcomeOf(theirs.getModelVersion({ model: name, selector: { case: "alias", value: "production" } }))).toBe("NotFound");
      expect(await outcomeOf(theirs.listModelVersions({ model: name }))).toBe("NotFound");
      expect(await outcomeOf(theirs.listModelFiles({ model: name, version: 1n }))).toBe("NotFound");
      expect(await outcomeOf(theirs.getModelAliasHistory({ model: name, alias: "production" }))).toBe("NotFound");
      expect(await outcomeOf(theirs.setModelAlias({ model: name, alias: "production", version: 1n }))).toBe("NotFound");
      expect(await outcomeOf(theirs.deleteModelAlias({ model: name, alias: "production" }))).toBe("NotFound");
      expect(await outcomeOf(theirs.updateModelVersion({ model: name, version: 1n, description: "x" }))).toBe("NotFound");
      expect(await outcomeOf(theirs.updateRegisteredModel({ name, description: "x" }))).toBe("NotFound");
      expect(await outcomeOf((async () => { for await (const _ of theirs.downloadModelFile({ model: name, selector: { case: "version", value: 1n }, path: "w.bin" })); })())).toBe("NotFound");
      // Our uploads and our run are not theirs to register, even into a model of their own.
      const ours = await upload(server.client(UploadService), "ours.bin", bytesOf(10, 5));
      expect(await outcomeOf(theirs.createModelVersion({ model: `stolen-${uniqueSuffix()}`, createModel: true, source: { case: "uploads", value: { files: [{ uploadId: ours.uploadId }] } } }))).toBe("NotFound");
      expect((await models().createModelVersion({ model: `ours-${uniqueSuffix()}`, createModel: true, source: { case: "uploads", value: { files: [{ uploadId: ours.uploadId }] } } })).created).toBe(true);
      expect(await outcomeOf(theirs.createModelVersion(fromRun(`stolen-${uniqueSuffix()}`, { createModel: true })))).toBe("NotFound");
      expect((await theirs.searchModelVersions({})).versions).toEqual([]);
      expect((await theirs.searchModelVersions({ models: [name], runMetrics: [{ key: "loss", op: MetricThreshold_Op.GREATER, value: -1 }] })).versions).toEqual([]);
      expect((await theirs.listRegisteredModels({})).models).toEqual([]);

      // The same name in their organisation is another model.
      const up = await upload(server.client(UploadService, "grpc", key), "t.bin", bytesOf(10, 1));
      const made = await theirs.createModelVersion({ model: name, createModel: true, source: { case: "uploads", value: { files: [{ uploadId: up.uploadId }] } } });
      expect(made.version?.version).toBe(1n);
      const found = (await theirs.searchModelVersions({})).versions;
      expect(found.map((v) => [v.model, v.fileCount])).toEqual([[name, 1]]);
      expect((await theirs.getModelVersion({ model: name, selector: { case: "version", value: 1n } })).version?.files.map((f) => f.path)).toEqual(["t.bin"]);
      expect((await models().getModelVersion({ model: name, selector: { case: "version", value: 1n } })).version?.files.map((f) => f.path)).toEqual(["w.bin"]);
    });

    it("lets no one register a run's artefacts, or name a run, they may not read", async () => {
      const secretRun = await newRun("secret");
      const user = (await server.client(UserService).createUser({ userName: `ed-${uniqueSuffix()}` })).user?.id ?? "";
      await server.client(AccessService).grantRole({ role: Role.EDITOR, userId: user, project: "open" });
      const key = (await server.client(ApiKeyService).createApiKey({ name: "k", userId: user })).secret;
      const model = `open-${uniqueSuffix()}`;
      const ownRun = (await server.client(ExperimentService, "grpc", key).createRun({ project: "open", experiment: "e" })).run?.runId ?? "";
      const up = await upload(server.client(UploadService, "grpc", key), "o.bin", bytesOf(10, 77));
      await models(key).createModelVersion({ model, createModel: true, project: "open", runId: ownRun, source: { case: "uploads", value: { files: [{ uploadId: up.uploadId }] } } });
      expect(await outcomeOf(models(key).createModelVersion({ model, source: { case: "runArtefacts", value: { runId: secretRun, pathPrefix: "" } } }))).toBe("PermissionDenied");
      const up2 = await upload(server.client(UploadService, "grpc", key), "o2.bin", bytesOf(10, 78));
      expect(await outcomeOf(models(key).createModelVersion({ model, runId: secretRun, source: { case: "uploads", value: { files: [{ uploadId: up2.uploadId }] } } }))).toBe("PermissionDenied");
      expect(await latest(model)).toBe(1n);
    });

    it("answers unknown models, versions, aliases and files with NOT_FOUND", async () => {
      const byVersion = (version: bigint) => ({ case: "version" as const, value: version });
      expect(await outcomeOf(models().getRegisteredModel({ name: "nonesuch" }))).toBe("NotFound");
      expect(await outcomeOf(models().getModelVersion({ model: name, selector: byVersion(99n) }))).toBe("NotFound");
      expect(await outcomeOf(models().getModelVersion({ model: name, selector: { case: "alias", value: "staging" } }))).toBe("NotFound");
      expect(await outcomeOf(models().getModelVersion({ model: "nonesuch", selector: byVersion(1n) }))).toBe("NotFound");
      expect(await outcomeOf(models().listModelFiles({ model: name, version: 99n }))).toBe("NotFound");
      expect(await outcomeOf(models().updateModelVersion({ model: name, version: 99n, description: "x" }))).toBe("NotFound");
      expect(await outcomeOf(models().setModelAlias({ model: name, alias: "staging", version: 99n }))).toBe("NotFound");
      expect(await outcomeOf(models().deleteModelAlias({ model: name, alias: "staging" }))).toBe("NotFound");
      expect(await outcomeOf(models().getModelAliasHistory({ model: "nonesuch" }))).toBe("NotFound");
      const drain = async (req: Parameters<ReturnType<typeof models>["downloadModelFile"]>[0]) => {
        for await (const _ of models().downloadModelFile(req));
      };
      expect(await outcomeOf(drain({ model: name, selector: byVersion(1n), path: "nope.bin" }))).toBe("NotFound");
      expect(await outcomeOf(drain({ model: name, selector: { case: "alias", value: "staging" }, path: "w.bin" }))).toBe("NotFound");
      expect(await outcomeOf(models().createModelVersion(fromRun("nonesuch")))).toBe("NotFound");
      expect(await outcomeOf(models().createModelVersion(fromRun(name, { source: { case: "runArtefacts", value: { runId: "run_doesnotexist", pathPrefix: "" } } })))).toBe("NotFound");
      expect(await latest(name)).toBe(1n);
    });

    it("refuses a run of another organisation as NOT_FOUND, whichever way it is named", async () => {
      const key = await server.newOrganization();
      const project = "theirs";
      const theirRun = (await server.client(ExperimentService, "grpc", key).createRun({ project, experiment: "e" })).run?.runId ?? "";
      const up = await upload(server.client(UploadService), "x.bin", bytesOf(10, 2));
      expect(await outcomeOf(models().createModelVersion(fromRun(name, { source: { case: "runArtefacts", value: { runId: theirRun, pathPrefix: "" } } })))).toBe("NotFound");
      expect(await outcomeOf(models().createModelVersion({ model: name, runId: theirRun, source: { case: "uploads", value: { files: [{ uploadId: up.uploadId }] } } }))).toBe("NotFound");
      expect(await latest(name)).toBe(1n);
      // The upload was not consumed by the refusal.
      expect((await models().createModelVersion({ model: name, source: { case: "uploads", value: { files: [{ uploadId: up.uploadId }] } } })).version?.version).toBe(2n);
    });

    it("refuses bad inputs with INVALID_ARGUMENT and commits nothing", async () => {
      const model = `bad-${uniqueSuffix()}`;
      await models().createModelVersion(fromRun(model, { createModel: true }));
      const invalid: [string, () => Promise<unknown>][] = [];
      const add = (what: string, call: () => Promise<unknown>) => invalid.push([what, call]);
      for (const alias of ["3", "007", "Production", "PROD", "", "-x", "_x", "a b", "a".repeat(65), "prod\n"]) {
        add(`SetModelAlias ${JSON.stringify(alias)}`, () => models().setModelAlias({ model, alias, version: 1n }));
        if (alias) add(`GetModelVersion alias ${JSON.stringify(alias)}`, () => models().getModelVersion({ model, selector: { case: "alias", value: alias } }));
      }
      for (const bad of ["a\u0001b", "line\nbreak", "tab\there", "nul\u0000", "del\u007f", "", "x".repeat(129), "a/b", "../up"]) {
        add(`model name ${JSON.stringify(bad)}`, () => models().createRegisteredModel({ name: bad }));
        add(`CreateModelVersion model ${JSON.stringify(bad)}`, () => models().createModelVersion(fromRun(bad, { createModel: true })));
        if (bad) add(`GetModelVersion model ${JSON.stringify(bad)}`, () => models().getModelVersion({ model: bad, selector: { case: "version", value: 1n } }));
        if (bad) add(`CreateModelVersion into project ${JSON.stringify(bad)}`, () => models().createModelVersion(fromRun(`new-${uniqueSuffix()}`, { createModel: true, project: bad })));
        if (bad) add(`ListRegisteredModels of project ${JSON.stringify(bad)}`, () => models().listRegisteredModels({ project: bad }));
      }
      for (const version of [0n, -1n, -(2n ** 40n)]) {
        add(`GetModelVersion ${version}`, () => models().getModelVersion({ model, selector: { case: "version", value: version } }));
        add(`SetModelAlias to ${version}`, () => models().setModelAlias({ model, alias: "production", version }));
        add(`UpdateModelVersion ${version}`, () => models().updateModelVersion({ model, version, description: "x" }));
        add(`ListModelFiles ${version}`, () => models().listModelFiles({ model, version }));
      }
      add("GetModelVersion without a selector", () => models().getModelVersion({ model }));
      add("signature not JSON", () => models().createModelVersion(fromRun(model, { signature: "inputs: x" })));
      add("signature cut short", () => models().createModelVersion(fromRun(model, { signature: '{"inputs": [' })));
      add("no source", () => models().createModelVersion({ model }));
      add("empty uploads", () => models().createModelVersion({ model, source: { case: "uploads", value: { files: [] } } }));
      const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ uploadId: `upl_${String(i).padStart(8, "0")}`, path: `f${i}.bin` }));
      add("10,001 uploads", () => models().createModelVersion({ model, source: { case: "uploads", value: { files: tooMany } } }));
      add("a prefix matching no artefact", () => models().createModelVersion(fromRun(model, { source: { case: "runArtefacts", value: { runId, pathPrefix: "nothing-here/" } } })));
      add("run_id differing from the artefacts' run", () => models().createModelVersion(fromRun(model, { runId: "run_other" })));
      add("an upload path with ..", () => models().createModelVersion({ model, source: { case: "uploads", value: { files: [{ uploadId: "upl_x", path: "../w.bin" }] } } }));
      add("21 metric thresholds", () => models().searchModelVersions({ runMetrics: Array.from({ length: 21 }, () => ({ key: "auc", op: MetricThreshold_Op.GREATER, value: 0 })) }));
      add("a threshold without an op", () => models().searchModelVersions({ runMetrics: [{ key: "auc", value: 0 }] }));
      add("a search page token of nonsense", () => models().searchModelVersions({ pageToken: "nonsense" }));
      add("a search by an upper-case alias", () => models().searchModelVersions({ alias: "Production" }));
      const wrong: string[] = [];
      for (const [what, call] of invalid) {
        const got = await outcomeOf(call());
        if (got !== "InvalidArgument") wrong.push(`${what}: ${got}`);
      }
      expect(wrong).toEqual([]);
      expect(await latest(model)).toBe(1n);
      expect((await models().getModelAliasHistory({ model })).moves).toEqual([]);
    });

    it("cuts a path prefix at a directory boundary: \"model\" takes model/…, not models-old/… nor a path starting with /", async () => {
      const experiments = server.client(ExperimentService);
      const run = (await experiments.createRun({ project: "req", experiment: "e" })).run?.runId ?? "";
      const files = ["model/w.bin", "model/sub/c.json", "models-old/x.bin", "model.txt"];
      const artefacts = [];
      for (const [i, path] of files.entries()) artefacts.push({ uploadId: (await upload(server.client(UploadService), "f", bytesOf(10, 60 + i))).uploadId, path });
      await server.client(RunArtefactService).logRunArtefacts({ runId: run, artefacts });
      const model = `prefix-${uniqueSuffix()}`;
      for (const pathPrefix of ["model", "model/"]) {
        const made = await models().createModelVersion({ model, createModel: true, source: { case: "runArtefacts", value: { runId: run, pathPrefix } } });
        expect((made.version?.files ?? []).map((f) => f.path).sort()).toEqual(["sub/c.json", "w.bin"]);
      }
      const whole = await models().createModelVersion({ model, source: { case: "runArtefacts", value: { runId: run, pathPrefix: "" } } });
      expect((whole.version?.files ?? []).map((f) => f.path).sort()).toEqual([...files].sort());
    });

    it("says what to fix in the message of a refusal", async () => {
      const error = await models()
        .setModelAlias({ model: name, alias: "3", version: 1n })
        .then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.rawMessage).toMatch(/alias/);
    });
  });
});
