/**
 * Aliases, on both backends: concurrent moves lose no history entry and keep
 * the chain from → to unbroken, a protected alias yields only to a
 * maintainer of the model, and the history answers "which version did
 * production point to at time T".
 */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { type AliasMove, ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { bytesOf, outcomeOf, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

/** Waits until the clock has moved past `t` (so that times before and after a call differ). */
async function clockPast(t: number): Promise<Date> {
  while (Date.now() <= t + 1) await new Promise((r) => setImmediate(r));
  return new Date();
}

describe.each(backends())("model aliases on $name", (backend) => {
  let server: TestServer;
  const models = (key?: string) => server.client(ModelService, "grpc", key);

  beforeAll(async () => {
    if (backend.available) server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  /** A model in `project` with `count` versions, all registered from one run's artefact. */
  async function modelWithVersions(count: number, project = `p${uniqueSuffix()}`) {
    const experiments = server.client(ExperimentService);
    const runId = (await experiments.createRun({ project, experiment: "e" })).run?.runId ?? "";
    const up = await upload(server.client(UploadService), "w.bin", bytesOf(100, 1));
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: up.uploadId, path: "w.bin" }] });
    const name = `m-${uniqueSuffix()}`;
    await models().createRegisteredModel({ name, project });
    for (let i = 0; i < count; i++) await models().createModelVersion({ model: name, source: { case: "runArtefacts", value: { runId, pathPrefix: "" } } });
    return { name, project };
  }

  /** Every move of an alias, newest first, paging by `pageSize`. */
  async function allMoves(model: string, alias: string, pageSize = 7): Promise<AliasMove[]> {
    const moves: AliasMove[] = [];
    let pageToken = "";
    do {
      const page = await models().getModelAliasHistory({ model, alias, pageSize, pageToken });
      moves.push(...page.moves);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return moves;
  }

  /** A key of a new user holding `orgRole` on the organisation and `projectRole` on `project`. */
  async function keyFor(orgRole: Role, project?: string, projectRole?: Role): Promise<string> {
    const user = (await server.client(UserService).createUser({ userName: `u-${uniqueSuffix()}`, role: orgRole })).user?.id ?? "";
    if (project && projectRole) await server.client(AccessService).grantRole({ role: projectRole, userId: user, project });
    return (await server.client(ApiKeyService).createApiKey({ name: "k", userId: user })).secret;
  }

  describe.skipIf(!backend.available)("", () => {
    it("bounds a model's aliases at 1,000: a new one past that is refused, existing ones still move", async () => {
      const { name } = await modelWithVersions(2);
      const model = await server.app.db.selectFrom("registeredModels").select(["id", "orgId"]).where("name", "=", name).executeTakeFirstOrThrow();
      // 999 made directly (1,000 calls would only slow the suite), the 1,000th through the API.
      await server.app.db
        .insertInto("modelAliases")
        .values(Array.from({ length: 999 }, (_, i) => ({ modelId: model.id, orgId: model.orgId, alias: `a${i}`, version: 1, protected: false, updatedAt: new Date() })))
        .execute();
      expect(await outcomeOf(models().setModelAlias({ model: name, alias: "last", version: 1n }))).toBe("OK");
      expect(await outcomeOf(models().setModelAlias({ model: name, alias: "one-too-many", version: 1n }))).toBe("ResourceExhausted");
      expect(await outcomeOf(models().setModelAlias({ model: name, alias: "a7", version: 2n }))).toBe("OK");
      expect((await models().getRegisteredModel({ name })).model?.aliases).toHaveLength(1000);
    });

    it("keeps every one of 20 concurrent moves of an alias, in an unbroken chain", async () => {
      const { name } = await modelWithVersions(20);
      const transports = ["grpc", "connectH2", "connectH1", "grpcWeb"] as const;
      const moved = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          server.client(ModelService, transports[i % 4]).setModelAlias({ model: name, alias: "production", version: BigInt(i + 1), reason: `move ${i + 1}` }),
        ),
      );
      const moves = (await allMoves(name, "production")).reverse();
      expect(moves).toHaveLength(20);
      expect(moves.map((m) => m.toVersion).sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
      expect(moves[0]?.fromVersion).toBe(0n);
      for (let i = 1; i < moves.length; i++) expect(moves[i]?.fromVersion).toBe(moves[i - 1]?.toVersion);
      for (const m of moves) expect(m.reason).toBe(`move ${m.toVersion}`);
      // Each call's previous_version is the from of its own history entry.
      const previousOf = new Map(moved.map((r) => [r.alias?.version, r.previousVersion]));
      for (const m of moves) expect(previousOf.get(m.toVersion)).toBe(m.fromVersion);
      const now = await models().getModelVersion({ model: name, selector: { case: "alias", value: "production" } });
      expect(now.version?.version).toBe(moves.at(-1)?.toVersion);
    });

    it("keeps concurrent moves of different aliases and deletions apart", async () => {
      const { name } = await modelWithVersions(4);
      await Promise.all(["a", "b", "c", "d"].flatMap((alias) => [1, 2, 3, 4].map((v) => models().setModelAlias({ model: name, alias, version: BigInt(v) }))));
      for (const alias of ["a", "b", "c", "d"]) {
        const moves = (await allMoves(name, alias, 2)).reverse();
        expect(moves.map((m) => m.toVersion).sort()).toEqual([1n, 2n, 3n, 4n]);
        for (let i = 1; i < moves.length; i++) expect(moves[i]?.fromVersion).toBe(moves[i - 1]?.toVersion);
      }
      await Promise.all(["a", "b"].map((alias) => models().deleteModelAlias({ model: name, alias, reason: "retired" })));
      expect((await allMoves(name, "a"))[0]).toMatchObject({ toVersion: 0n, reason: "retired" });
      expect((await models().getModelAliasHistory({ model: name })).moves).toHaveLength(18);
      expect((await models().getRegisteredModel({ name })).model?.aliases.map((a) => a.alias).sort()).toEqual(["c", "d"]);
    });

    it("answers which version production pointed to at any time, across moves, a move back and a deletion", async () => {
      const { name } = await modelWithVersions(3);
      const times: Date[] = [await clockPast(Date.now())];
      const steps: bigint[] = [1n, 2n, 3n, 1n];
      for (const version of steps) {
        await models().setModelAlias({ model: name, alias: "production", version, reason: `to ${version}` });
        times.push(await clockPast(Date.now()));
      }
      await models().deleteModelAlias({ model: name, alias: "production", reason: "withdrawn" });
      times.push(await clockPast(Date.now()));
      const at = async (t: Date) => (await models().getModelAliasHistory({ model: name, alias: "production", at: timestampFromDate(t) })).versionAt;
      expect(await Promise.all(times.map(at))).toEqual([0n, 1n, 2n, 3n, 1n, 0n]);
      const moves = await allMoves(name, "production");
      expect(moves.map((m) => [m.fromVersion, m.toVersion, m.reason])).toEqual([
        [1n, 0n, "withdrawn"],
        [3n, 1n, "to 1"],
        [2n, 3n, "to 3"],
        [1n, 2n, "to 2"],
        [0n, 1n, "to 1"],
      ]);
      // The time of each move answers with that move's version.
      for (const m of moves.slice(1)) expect(await at(timestampDate(m.time ?? timestampFromDate(new Date(0))))).toBe(m.toVersion);
      expect(moves.every((m) => m.userId !== "" && m.keyId !== "")).toBe(true);
    });

    it("lets only a maintainer of the model's project move, delete or unprotect a protected alias", async () => {
      const { name, project } = await modelWithVersions(3);
      const editor = await keyFor(Role.EDITOR);
      const projectMaintainer = await keyFor(Role.VIEWER, project, Role.MAINTAINER);
      const elsewhereMaintainer = await keyFor(Role.EDITOR, (await modelWithVersions(1)).project, Role.MAINTAINER);
      const orgMaintainer = await keyFor(Role.MAINTAINER);
      const denied = "PermissionDenied";

      // Protecting needs a maintainer; an editor may make and move unprotected aliases.
      expect(await outcomeOf(models(editor).setModelAlias({ model: name, alias: "production", version: 1n, protected: true }))).toBe(denied);
      expect(await outcomeOf(models(editor).setModelAlias({ model: name, alias: "candidate", version: 1n }))).toBe("OK");
      expect(await outcomeOf(models(projectMaintainer).setModelAlias({ model: name, alias: "production", version: 1n, protected: true, reason: "lock" }))).toBe("OK");
      const history = await allMoves(name, "production");

      for (const key of [editor, elsewhereMaintainer]) {
        expect(await outcomeOf(models(key).setModelAlias({ model: name, alias: "production", version: 2n }))).toBe(denied);
        expect(await outcomeOf(models(key).setModelAlias({ model: name, alias: "production", version: 1n, protected: false }))).toBe(denied);
        expect(await outcomeOf(models(key).deleteModelAlias({ model: name, alias: "production" }))).toBe(denied);
      }
      expect(await allMoves(name, "production")).toEqual(history);
      const alias = (await models().getRegisteredModel({ name })).model?.aliases.find((a) => a.alias === "production");
      expect({ version: alias?.version, protected: alias?.protected }).toEqual({ version: 1n, protected: true });

      expect(await outcomeOf(models(projectMaintainer).setModelAlias({ model: name, alias: "production", version: 2n, reason: "v2" }))).toBe("OK");
      expect(await outcomeOf(models(orgMaintainer).setModelAlias({ model: name, alias: "production", version: 3n, reason: "v3" }))).toBe("OK");
      expect((await models().getModelVersion({ model: name, selector: { case: "alias", value: "production" } })).version?.version).toBe(3n);
      // Still protected after the moves (protection unset keeps it).
      expect(await outcomeOf(models(editor).setModelAlias({ model: name, alias: "production", version: 1n }))).toBe(denied);

      expect(await outcomeOf(models(projectMaintainer).setModelAlias({ model: name, alias: "production", version: 3n, protected: false }))).toBe("OK");
      expect(await outcomeOf(models(editor).setModelAlias({ model: name, alias: "production", version: 1n, reason: "editor may now" }))).toBe("OK");
      await models(projectMaintainer).setModelAlias({ model: name, alias: "production", version: 1n, protected: true });
      expect(await outcomeOf(models(projectMaintainer).deleteModelAlias({ model: name, alias: "production", reason: "gone" }))).toBe("OK");
      expect((await allMoves(name, "production")).map((m) => [m.fromVersion, m.toVersion])).toEqual([
        [1n, 0n],
        [3n, 1n],
        [2n, 3n],
        [1n, 2n],
        [0n, 1n],
      ]);
    });

    it("refuses a protected move with PERMISSION_DENIED that says why", async () => {
      const { name } = await modelWithVersions(2);
      await models().setModelAlias({ model: name, alias: "production", version: 1n, protected: true });
      const editor = await keyFor(Role.EDITOR);
      const error = await models(editor)
        .setModelAlias({ model: name, alias: "production", version: 2n })
        .then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(error?.code).toBe(Code.PermissionDenied);
      expect(error?.rawMessage).toMatch(/protected/);
    });
  });
});
