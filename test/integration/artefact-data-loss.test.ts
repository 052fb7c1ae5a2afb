/**
 * Committed bytes that vanished or shrank in object storage behind the
 * server's back: reads say DATA_LOSS and name the artefact (never INTERNAL),
 * and a commit never trusts a blob row without its object.
 */
import { Readable } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { bytesOf, download, sha256, upload } from "../support/data.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

const MiB = 1024 * 1024;

async function failureOf(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call;
    return { code: "OK", message: "" };
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: Code[e.code], message: e.rawMessage };
  }
}

describe.each(backends())("lost artefact bytes on $name", (backend) => {
  let server: TestServer;
  let seed = 7000;
  beforeAll(async () => {
    if (backend.available) server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  const uploads = () => server.client(UploadService);
  const datasets = () => server.client(DatasetService);
  /** Where the one object holding `data` is, as its blob row says. */
  const blobObject = async (data: Buffer) =>
    (await server.app.db.selectFrom("blobs").select("physicalKey").where("sha256", "=", sha256(data)).executeTakeFirstOrThrow()).physicalKey;

  /** Commits `data` as the only artefact of a new dataset version; its name. */
  async function committed(data: Buffer, path: string): Promise<string> {
    const name = `lost-${uniqueSuffix()}`;
    const { uploadId } = await upload(uploads(), path, data);
    await datasets().createDataset({ name, version: "1", artefacts: [{ uploadId, path }] });
    return name;
  }

  it.skipIf(!backend.available)("an artefact whose object was deleted downloads as DATA_LOSS naming it", async () => {
    const data = bytesOf(2 * MiB + 3, seed++);
    const name = await committed(data, "weights.bin");
    await server.app.store.delete([await blobObject(data)]);
    const failure = await failureOf(download(datasets(), name, "1", "weights.bin"));
    expect(failure.code).toBe("DataLoss");
    expect(failure.message).toContain(`"weights.bin"`);
    expect(failure.message).toContain(`dataset "${name}@1"`);
  });

  it.skipIf(!backend.available)("an artefact whose object is short downloads as DATA_LOSS, also from an offset past the object's end", async () => {
    const data = bytesOf(300_000, seed++);
    const name = await committed(data, "labels.csv");
    const short = data.subarray(0, 1000);
    await server.app.store.put(await blobObject(data), Readable.from([short]), short.length);
    for (const offset of [0n, 500n, 2000n]) {
      const failure = await failureOf(download(datasets(), name, "1", "labels.csv", offset));
      expect({ offset, code: failure.code }).toEqual({ offset, code: "DataLoss" });
      expect(failure.message).toContain(`"labels.csv" of dataset "${name}@1"`);
    }
  });

  it.skipIf(!backend.available)("a run artefact whose object was deleted downloads as DATA_LOSS naming the run", async () => {
    const data = bytesOf(5000, seed++);
    const { uploadId } = await upload(uploads(), "model.pt", data);
    const runId = (await server.client(ExperimentService).createRun({ project: "lost", experiment: "e" })).run?.runId ?? "";
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId, path: "model.pt" }] });
    await server.app.store.delete([await blobObject(data)]);
    const messages = server.client(RunArtefactService).downloadRunArtefact({ runId, path: "model.pt" });
    const failure = await failureOf((async () => { for await (const _ of messages); })());
    expect(failure.code).toBe("DataLoss");
    expect(failure.message).toContain(`"model.pt" of run "${runId}"`);
  });

  it.skipIf(!backend.available)("a commit of the same bytes replaces a lost blob's object, so earlier versions read whole again", async () => {
    const data = bytesOf(2 * MiB + 11, seed++);
    const name = await committed(data, "shards.bin");
    await server.app.store.delete([await blobObject(data)]);
    const again = await committed(data, "shards.bin");
    for (const n of [again, name]) expect(sha256((await download(datasets(), n, "1", "shards.bin")).bytes)).toBe(sha256(data));
  });

  it.skipIf(!backend.available).each([4096, 2 * MiB + 7])("an upload (%i bytes) whose object vanished before its commit is refused, not committed", async (size) => {
    const data = bytesOf(size, seed++);
    const { uploadId } = await upload(uploads(), "tiny.json", data);
    const { objectKey } = await server.app.db.selectFrom("uploads").select("objectKey").where("id", "=", uploadId).executeTakeFirstOrThrow();
    await server.app.store.delete([objectKey ?? ""]);
    const name = `lost-${uniqueSuffix()}`;
    const failure = await failureOf(datasets().createDataset({ name, version: "1", artefacts: [{ uploadId }] }));
    expect(failure.code).toBe("FailedPrecondition");
    expect(failure.message).toContain(`upload "${uploadId}" are missing from object storage`);
  });
});
