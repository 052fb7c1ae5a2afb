/**
 * State lives in the database and object storage, not in a process: staged
 * uploads expire and are reclaimed, and an upload started on one replica
 * resumes on another.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService, UploadState } from "../../gen/traintrack/v1/upload_pb.js";
import { breakUpload, bytesOf, download, resumeUpload, sha256, upload } from "../support/data.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";

const MiB = 1024 * 1024;
const DAY = 24 * 3600 * 1000;

/** The objects an upload left in storage: its own object, or an unfinished one (parts). */
async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function objectsOf(server: TestServer, uploadId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of server.app.store.list("objects/")) if (object.key.endsWith(uploadId)) keys.push(object.key);
  for await (const object of server.app.store.listStarted("objects/")) if (object.key.endsWith(uploadId)) keys.push(`${object.key} (parts)`);
  return keys;
}

describe.each(backends())("janitor on $name", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  it.skipIf(!backend.available)("reclaims expired uploads, staged or small, and leaves committed data alone", async () => {
    const uploads = server.client(UploadService);
    const datasets = server.client(DatasetService);
    const keptBytes = bytesOf(1000, 1);
    const kept = await upload(uploads, "kept.bin", keptBytes);
    await datasets.createDataset({ name: "kept", version: "1", artefacts: [{ uploadId: kept.uploadId }] });
    // Complete uploads never committed (one written in parts, one in a single put), and one abandoned mid-way.
    const forgottenLarge = await upload(uploads, "forgotten.bin", bytesOf(2 * MiB, 2));
    const forgottenSmall = await upload(uploads, "forgotten.txt", bytesOf(1000, 3));
    const abandoned = { uploadId: await breakUpload(uploads, server.app.db, "abandoned.bin", bytesOf(12 * MiB, 4), 9 * MiB, 8 * MiB) };
    expect(await objectsOf(server, forgottenLarge.uploadId)).toHaveLength(1);
    expect(await objectsOf(server, forgottenSmall.uploadId)).toHaveLength(1);
    expect(await objectsOf(server, abandoned.uploadId)).toEqual([expect.stringContaining("(parts)")]);

    const report = await server.app.janitor.runOnce(new Date(Date.now() + 2 * DAY));
    expect(report.expiredUploads).toBe(3);

    for (const forgotten of [forgottenLarge, forgottenSmall, abandoned]) {
      const state = (await uploads.getUpload({ uploadId: forgotten.uploadId })).upload;
      expect(state?.state).toBe(UploadState.DISCARDED);
      expect(state?.discardReason).toBe("expired");
      const error = ConnectError.from(
        await datasets.createDataset({ name: "late", version: "1", artefacts: [{ uploadId: forgotten.uploadId }] }).catch((e: unknown) => e),
      );
      expect(error.code).toBe(Code.FailedPrecondition);
      expect(error.rawMessage).toContain("expired");
    }
    // Every object they left is gone, also the multipart upload abandoned mid-way (aborted).
    for (const forgotten of [forgottenLarge, forgottenSmall, abandoned]) expect(await objectsOf(server, forgotten.uploadId)).toEqual([]);
    expect((await download(datasets, "kept", "1", "kept.bin")).sha256).toBe(sha256(keptBytes));
  });
  it.skipIf(!backend.available)("aborts a multipart upload no upload in progress owns, once past the grace, and never one an upload still writes", async () => {
    const uploads = server.client(UploadService);
    const writing = await breakUpload(uploads, server.app.db, "still-writing.bin", bytesOf(12 * MiB, 5), 9 * MiB, 8 * MiB);
    const { orgId } = await server.app.db.selectFrom("uploads").select("orgId").where("id", "=", writing).executeTakeFirstOrThrow();
    // As a crash between starting an object's parts and recording its handle leaves it.
    const orphan = { key: `objects/${orgId}/up_${"z".repeat(26)}`, handle: await server.app.store.startParts(`objects/${orgId}/up_${"z".repeat(26)}`) };
    const started = async () => (await collect(server.app.store.listStarted("objects/"))).map((o) => o.key).sort();

    // Within the grace period nothing is touched: a stream may be about to record its handle.
    expect((await server.app.janitor.runOnce()).abortedParts).toBe(0);
    expect(await started()).toContain(orphan.key);
    // Past it, the orphan is aborted; the upload in progress (not expired) keeps its parts and resumes.
    const report = await server.app.janitor.runOnce(new Date(Date.now() + 10 * 60_000));
    expect(report.abortedParts).toBe(1);
    expect(await started()).not.toContain(orphan.key);
    expect((await started()).some((k) => k.endsWith(writing))).toBe(true);
    const done = await resumeUpload(uploads, writing, BigInt(8 * MiB), bytesOf(12 * MiB, 5));
    expect(done.sha256).toBe(sha256(bytesOf(12 * MiB, 5)));
  });
});

describe.skipIf(!backends().find((b) => b.name === "postgres+minio")?.available)("replicas on postgres+minio", () => {
  let first: TestServer & { env: Record<string, string> };
  let second: TestServer;
  beforeAll(async () => {
    first = await startTestServer("postgres+minio");
    second = await startTestServer("postgres+minio", { reuseEnv: first.env });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it("an upload broken on one replica resumes on another", async () => {
    const data = bytesOf(10 * MiB, 9);
    const uploadId = await breakUpload(first.client(UploadService), first.app.db, "replica.bin", data, 9 * MiB, 8 * MiB);
    const onSecond = second.client(UploadService);
    const offset = (await onSecond.getUpload({ uploadId })).upload?.bytesReceived ?? -1n;
    expect(offset).toBe(BigInt(8 * MiB));
    const done = await resumeUpload(onSecond, uploadId, offset, data);
    expect(done.sha256).toBe(sha256(data));
  });
});
