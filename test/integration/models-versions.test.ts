/**
 * Versions as a registry's users rely on them, on both backends: numbered
 * 1, 2, 3 … with none lost or doubled under concurrent registrations (and a
 * model created once by concurrent create_model calls), versions of more than
 * 1,000 files listed inline up to 1,000 and paged through ListModelFiles,
 * metadata that changes while files never do, and downloads by alias with a
 * range.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { bytesOf, outcomeOf, sha256, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

describe.each(backends())("model versions on $name", (backend) => {
  let server: TestServer;
  const models = () => server.client(ModelService);

  beforeAll(async () => {
    if (backend.available) server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  /** `count` small uploads of distinct content, 16 at a time. */
  async function uploads(count: number, seed: number): Promise<{ uploadId: string; path: string; sha256: string }[]> {
    const out = new Array<{ uploadId: string; path: string; sha256: string }>(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) {
          const i = next++;
          const up = await upload(server.client(UploadService), "f.bin", bytesOf(32, seed * 10_000 + i));
          out[i] = { uploadId: up.uploadId, path: `shard/part-${String(i).padStart(5, "0")}.bin`, sha256: up.sha256 };
        }
      }),
    );
    return out;
  }

  async function runWith(files: { uploadId: string; path: string }[]) {
    const runId = (await server.client(ExperimentService).createRun({ project: `p${uniqueSuffix()}`, experiment: "e" })).run?.runId ?? "";
    for (let i = 0; i < files.length; i += 1000) await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: files.slice(i, i + 1000) });
    return runId;
  }

  async function allFiles(model: string, version: bigint, pageSize: number, pathPrefix = "") {
    const paths: string[] = [];
    let pageToken = "";
    do {
      const page = await models().listModelFiles({ model, version, pageSize, pageToken, pathPrefix });
      paths.push(...page.files.map((f) => f.path));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return paths;
  }

  describe.skipIf(!backend.available)("", () => {
    it("numbers concurrent registrations 1 … n with none lost, and creates a model wanted by all of them once", async () => {
      const runId = await runWith((await uploads(2, 1)).map(({ uploadId, path }) => ({ uploadId, path })));
      const model = `race-${uniqueSuffix()}`;
      const made = await Promise.all(
        Array.from({ length: 12 }, () => models().createModelVersion({ model, createModel: true, project: "racers", source: { case: "runArtefacts", value: { runId, pathPrefix: "" } } })),
      );
      expect(made.map((m) => Number(m.version?.version)).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(made.every((m) => m.created)).toBe(true);
      const got = (await models().getRegisteredModel({ name: model })).model;
      expect({ latest: got?.latestVersion, project: got?.project }).toEqual({ latest: 12n, project: "racers" });
      expect((await models().listRegisteredModels({ namePrefix: model })).models.map((m) => m.name)).toEqual([model]);
      const listed: bigint[] = [];
      let pageToken = "";
      do {
        const page = await models().listModelVersions({ model, pageSize: 5, pageToken });
        listed.push(...page.versions.map((v) => v.version));
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(listed).toEqual(Array.from({ length: 12 }, (_, i) => BigInt(12 - i)));
    });

    it("lists 1,000 files inline and pages through more, from run artefacts and from uploads alike", { timeout: 300_000 }, async () => {
      const count = 1001;
      const fromRun = await uploads(count, 2);
      const runId = await runWith(fromRun.map(({ uploadId, path }) => ({ uploadId, path })));
      const model = `wide-${uniqueSuffix()}`;
      const a = await models().createModelVersion({ model, createModel: true, source: { case: "runArtefacts", value: { runId, pathPrefix: "shard/" } } });
      const direct = await uploads(count, 3);
      const b = await models().createModelVersion({ model, source: { case: "uploads", value: { files: direct.map(({ uploadId, path }) => ({ uploadId, path })) } } });
      for (const [made, files, cut] of [[a, fromRun, "shard/"], [b, direct, ""]] as const) {
        const expected = files.map((f) => f.path.slice(cut.length)).sort();
        expect({ inline: made.version?.files.length, count: made.version?.fileCount, total: made.version?.totalSize }).toEqual({ inline: 1000, count, total: BigInt(32 * count) });
        expect(made.version?.files.map((f) => f.path)).toEqual(expected.slice(0, 1000));
        const version = made.version?.version ?? 0n;
        expect(await allFiles(model, version, 400)).toEqual(expected);
        expect(await allFiles(model, version, 10_000)).toEqual(expected);
        const tenth = expected.filter((p) => p.includes("part-0010"));
        expect(await allFiles(model, version, 3, cut ? "part-0010" : "shard/part-0010")).toEqual(tenth);
        // The last file, past the inline list, downloads with its content.
        const last = files[count - 1];
        const parts: Uint8Array[] = [];
        for await (const m of models().downloadModelFile({ model, selector: { case: "version", value: version }, path: expected[count - 1] })) {
          if (m.payload.case === "chunk") parts.push(m.payload.value);
        }
        expect(sha256(Buffer.concat(parts))).toBe(last?.sha256);
      }
    });

    it("answers CreateRegisteredModel again for the same model, and ALREADY_EXISTS for another under its name", async () => {
      const name = `named-${uniqueSuffix()}`;
      const first = await models().createRegisteredModel({ name, project: "one", description: "churn" });
      const again = await models().createRegisteredModel({ name, project: "one", description: "churn" });
      expect(again.model?.createdAt).toEqual(first.model?.createdAt);
      expect(await outcomeOf(models().createRegisteredModel({ name, project: "two", description: "churn" }))).toBe("AlreadyExists");
      expect(await outcomeOf(models().createRegisteredModel({ name, project: "one", description: "other" }))).toBe("AlreadyExists");
      expect(await outcomeOf(models().createRegisteredModel({ name, description: "churn" }))).toBe("AlreadyExists");
    });

    it("changes a version's description and tags, never its files", async () => {
      const runId = await runWith((await uploads(3, 4)).map(({ uploadId, path }) => ({ uploadId, path })));
      const model = `meta-${uniqueSuffix()}`;
      const made = await models().createModelVersion({ model, createModel: true, tags: { a: "1", b: "2" }, description: "v1", source: { case: "runArtefacts", value: { runId, pathPrefix: "" } } });
      const updated = await models().updateModelVersion({ model, version: 1n, description: "# Model card\nbetter", setTags: { b: "3", c: "4" }, removeTags: ["a"] });
      expect({ description: updated.version?.description, tags: updated.version?.tags }).toEqual({ description: "# Model card\nbetter", tags: { b: "3", c: "4" } });
      expect(updated.version?.files).toEqual(made.version?.files);
      // Unset description: unchanged.
      expect((await models().updateModelVersion({ model, version: 1n, setTags: { d: "5" } })).version?.description).toBe("# Model card\nbetter");
      const m = await models().updateRegisteredModel({ name: model, description: "the churn model", setTags: { team: "x" } });
      expect({ description: m.model?.description, tags: m.model?.tags }).toEqual({ description: "the churn model", tags: { team: "x" } });
      // Logging more artefacts to the run later changes no version made from it.
      await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: (await uploads(1, 5)).map(({ uploadId }) => ({ uploadId, path: "late.bin" })) });
      expect((await models().getModelVersion({ model, selector: { case: "version", value: 1n } })).version?.files).toEqual(made.version?.files);
    });

    it("downloads a file by alias, from an offset and for a length", async () => {
      const bytes = bytesOf(3 * 1024 * 1024 + 11, 9);
      const up = await upload(server.client(UploadService), "weights.bin", bytes);
      const model = `range-${uniqueSuffix()}`;
      await models().createModelVersion({ model, createModel: true, source: { case: "uploads", value: { files: [{ uploadId: up.uploadId, path: "weights.bin" }] } } });
      await models().setModelAlias({ model, alias: "production", version: 1n });
      const read = async (offset: bigint, length?: bigint) => {
        const hash = createHash("sha256");
        let size = 0;
        for await (const m of models().downloadModelFile({ model, selector: { case: "alias", value: "production" }, path: "weights.bin", offset, length })) {
          if (m.payload.case === "chunk") {
            hash.update(m.payload.value);
            size += m.payload.value.length;
          }
        }
        return { size, sha256: hash.digest("hex") };
      };
      expect(await read(0n)).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      const from = 1024 * 1024 + 5;
      expect(await read(BigInt(from), 2_000_000n)).toEqual({ size: 2_000_000, sha256: sha256(bytes.subarray(from, from + 2_000_000)) });
      expect(await read(BigInt(bytes.length))).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)) });
      expect(await outcomeOf(read(BigInt(bytes.length + 1)))).not.toBe("OK");
    });
  });
});
