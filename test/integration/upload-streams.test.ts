/**
 * Upload streams under stalled, slow and stale clients, on both backends: an
 * idle stream ends and resumes, stalled streams hold only what they sent, a
 * resume reads no stored byte back, a writer whose lease lapsed cannot
 * overwrite what another stream recorded, and a wait for budget ends with
 * the client.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Transform } from "node:stream";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { type Upload, UploadService, UploadState } from "../../gen/traintrack/v1/upload_pb.js";
import { createStore } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import * as repo from "../../src/db/uploads-repo.js";
import { UnavailableError } from "../../src/services/errors.js";
import { createUploadService } from "../../src/services/uploads.js";
import type { ObjectStore } from "../../src/storage/object-store.js";
import { breakUpload, bytesOf, download, resumeUpload, sha256, upload } from "../support/data.js";
import { backendEnv, backends, startTestServer, type TestServer } from "../support/server.js";

const MiB = 1024 * 1024;
const SEGMENT = 5 * MiB;

/** Polls `check` until it holds (never sleeps to wait for a fixed time). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/**
 * An Upload stream the test drives: the header and `first` bytes go at once;
 * the rest only after `release()`. `abort()` cancels it as a client going away.
 */
function heldStream(client: Client<typeof UploadService>, header: { fileName: string; size: number } | { resume: string; offset: number }, data: Buffer, first: number) {
  const controller = new AbortController();
  let release = () => undefined as void;
  const gate = new Promise<void>((r) => (release = r));
  const start = "resume" in header ? header.offset : 0;
  async function* messages() {
    yield "resume" in header
      ? { payload: { case: "header" as const, value: { start: { case: "resume" as const, value: { uploadId: header.resume, offset: BigInt(header.offset) } } } } }
      : { payload: { case: "header" as const, value: { start: { case: "newUpload" as const, value: { fileName: header.fileName, mediaType: "application/octet-stream", size: BigInt(header.size) } } } } };
    const chunks = (from: number, to: number) => {
      const out: Buffer[] = [];
      for (let at = from; at < to; at += MiB) out.push(data.subarray(at, Math.min(at + MiB, to)));
      return out;
    };
    for (const chunk of chunks(start, first)) yield { payload: { case: "chunk" as const, value: chunk } };
    await gate;
    for (const chunk of chunks(first, data.length)) yield { payload: { case: "chunk" as const, value: chunk } };
  }
  let settled = false;
  const result: Promise<Upload | ConnectError> = client.upload(messages(), { signal: controller.signal }).then(
    (res) => res.upload as Upload,
    (e: unknown) => ConnectError.from(e),
  );
  void result.finally(() => (settled = true));
  return {
    result,
    release,
    settled: () => settled,
    abort: () => {
      controller.abort();
      release();
    },
  };
}

/** The real store, counting the bytes read back from it. */
function countingStore(inner: ObjectStore) {
  const counter = { stagedBytesRead: 0 };
  const store: ObjectStore = {
    ...inner,
    async get(key, offset) {
      const body = await inner.get(key, offset);
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          counter.stagedBytesRead += chunk.length;
          done(null, chunk);
        },
      });
      body.on("error", (e) => tap.destroy(e));
      return body.pipe(tap);
    },
  };
  return { store, counter };
}

describe.each(backends())("upload streams on $name", (backend) => {
  describe.skipIf(!backend.available)("", () => {
    let patient: TestServer;
    let impatient: TestServer;
    let dir: string;
    let skewMs = 0;
    const counted = { stagedBytesRead: 0 };

    beforeAll(async () => {
      const small = { TRAINTRACK_SEGMENT_BYTES: String(SEGMENT), TRAINTRACK_UPLOAD_MEMORY_BYTES: String(2 * SEGMENT) };
      dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-streams-"));
      const env = { ...(await backendEnv(backend.name, dir)), ...small };
      const { store, counter } = countingStore(await createStore(loadConfig(env).storage));
      Object.defineProperty(counted, "stagedBytesRead", { get: () => counter.stagedBytesRead, set: (v: number) => (counter.stagedBytesRead = v) });
      patient = await startTestServer(backend.name, { reuseEnv: env, overrides: { store, now: () => new Date(Date.now() + skewMs) } });
      impatient = await startTestServer(backend.name, { env: { ...small, TRAINTRACK_UPLOAD_IDLE_TIMEOUT_SECONDS: "1" } });
    });
    afterAll(async () => {
      await patient?.close();
      await impatient?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("a stream that sends nothing for the idle timeout ends with DEADLINE_EXCEEDED and resumes to the right sha256", async () => {
      const uploads = impatient.client(UploadService);
      const data = bytesOf(12 * MiB, 11);
      const stalled = heldStream(uploads, { fileName: "idle.bin", size: data.length }, data, 6 * MiB);
      const error = await stalled.result;
      stalled.release();
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);
      expect((error as ConnectError).rawMessage).toContain(`resume it at offset ${SEGMENT}`);
      const uploadId = /upload "([^"]+)"/.exec((error as ConnectError).rawMessage)?.[1] ?? "";
      // The lease was released with the stream: the resume is accepted at once, not after the lease.
      const done = await uploads.upload(
        (async function* () {
          yield { payload: { case: "header" as const, value: { start: { case: "resume" as const, value: { uploadId, offset: BigInt(SEGMENT) } } } } };
          for (let at = SEGMENT; at < data.length; at += MiB) yield { payload: { case: "chunk" as const, value: data.subarray(at, at + MiB) } };
        })(),
      );
      expect(done.upload?.state).toBe(UploadState.COMPLETE);
      expect(done.upload?.sha256).toBe(sha256(data));
    });

    it("a stream that never sends its header ends with DEADLINE_EXCEEDED", async () => {
      const uploads = impatient.client(UploadService);
      let release = () => undefined as void;
      const gate = new Promise<void>((r) => (release = r));
      const error = await uploads
        .upload(
          (async function* () {
            await gate;
          })(),
        )
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      release();
      expect(error?.code).toBe(Code.DeadlineExceeded);
      expect(error?.rawMessage).toContain("no header");
    });

    it("eight stalled streams that each sent one byte do not hold back a healthy upload", async () => {
      const uploads = patient.client(UploadService);
      const stalled = Array.from({ length: 8 }, (_, i) => heldStream(uploads, { fileName: `stalled-${i}.bin`, size: 9 * MiB }, bytesOf(9 * MiB, 20 + i), 1));
      await until(async () => (await patient.app.db.selectFrom("uploads").select("id").where("fileName", "like", "stalled-%").execute()).length === 8, "all stalled streams started");
      await until(() => patient.app.uploadStats().budgetInUse >= 8, "each stalled stream's byte arrived");
      const data = bytesOf(9 * MiB, 30);
      const healthy = await upload(uploads, "healthy.bin", data);
      expect(healthy.sha256).toBe(sha256(data));
      // They were still open: the healthy upload did not wait for them to end.
      expect(stalled.every((s) => !s.settled())).toBe(true);
      for (const s of stalled) s.abort();
      await Promise.all(stalled.map((s) => s.result));
      await until(() => patient.app.uploadStats().activeStreams === 0, "the stalled streams ended");
      expect(patient.app.uploadStats().budgetInUse).toBe(0);
    });

    it("sixteen concurrent uploads through a budget of two segments all complete (no stream waits forever holding half a segment)", async () => {
      const uploads = patient.client(UploadService);
      const files = Array.from({ length: 16 }, (_, i) => bytesOf(12 * MiB + i, 80 + i));
      const done = await Promise.all(files.map((data, i) => upload(uploads, `crowd-${i}.bin`, data)));
      expect(done.map((u) => u.sha256)).toEqual(files.map((data) => sha256(data)));
      expect(patient.app.uploadStats().budgetInUse).toBe(0);
    });

    it("a resume at a late offset reads no stored byte back", async () => {
      const uploads = patient.client(UploadService);
      const data = bytesOf(17 * MiB, 40);
      const uploadId = await breakUpload(uploads, patient.app.db, "late.bin", data, 16 * MiB, 15 * MiB);
      counted.stagedBytesRead = 0;
      const done = await resumeUpload(uploads, uploadId, BigInt(15 * MiB), data);
      expect(done.sha256).toBe(sha256(data));
      expect(counted.stagedBytesRead).toBe(0);
    });

    it("an upload staged by an earlier version (separate segment objects) is refused at resume with what to do, and discarded", async () => {
      const uploads = patient.client(UploadService);
      const data = bytesOf(12 * MiB, 45);
      const uploadId = await breakUpload(uploads, patient.app.db, "legacy.bin", data, 11 * MiB, 2 * SEGMENT);
      // What an earlier version left: no object of its own (its segments were objects of their own).
      await patient.app.db.updateTable("uploads").set({ objectKey: null, partsHandle: null }).where("id", "=", uploadId).execute();
      const refused = await resumeUpload(uploads, uploadId, BigInt(2 * SEGMENT), data).catch((e: unknown) => ConnectError.from(e));
      expect(refused).toBeInstanceOf(ConnectError);
      expect((refused as ConnectError).code).toBe(Code.FailedPrecondition);
      expect((refused as ConnectError).rawMessage).toContain("earlier version of the server");
      expect((refused as ConnectError).rawMessage).toContain("upload the file again");
      expect((await uploads.getUpload({ uploadId })).upload?.state).toBe(UploadState.DISCARDED);
    });

    it("a writer whose lease lapsed cannot overwrite a segment another stream recorded", async () => {
      const uploads = patient.client(UploadService);
      const good = bytesOf(12 * MiB, 50);
      const garbage = Buffer.concat([good.subarray(0, SEGMENT), bytesOf(7 * MiB, 51)]);
      // The first writer stores segment 0, then stalls in segment 1 holding garbage.
      const stale = heldStream(uploads, { fileName: "fenced.bin", size: good.length }, garbage, 6 * MiB);
      let uploadId = "";
      await until(async () => {
        const row = await patient.app.db.selectFrom("uploads").select(["id", "bytesReceived"]).where("fileName", "=", "fenced.bin").executeTakeFirst();
        uploadId = row?.id ?? "";
        return (row?.bytesReceived ?? 0) >= SEGMENT;
      }, "segment 0 is durable");
      // Its lease lapses (the clock jumps past it); a second stream takes over and records segment 1.
      skewMs += 10 * 60 * 1000;
      const fresh = heldStream(uploads, { resume: uploadId, offset: SEGMENT }, good, 2 * SEGMENT);
      await until(async () => {
        const row = await patient.app.db.selectFrom("uploads").select("bytesReceived").where("id", "=", uploadId).executeTakeFirst();
        return (row?.bytesReceived ?? 0) >= 2 * SEGMENT;
      }, "segment 1 is recorded by the second stream");
      // The stale writer finishes its segment 1: refused, whatever it stored.
      stale.release();
      const refused = await stale.result;
      expect(refused).toBeInstanceOf(ConnectError);
      expect((refused as ConnectError).code).toBe(Code.Aborted);
      fresh.release();
      const done = await fresh.result;
      expect(done).not.toBeInstanceOf(ConnectError);
      expect((done as Upload).sha256).toBe(sha256(good));
      const datasets = patient.client(DatasetService);
      await datasets.createDataset({ name: "fenced", version: "1", artefacts: [{ uploadId }] });
      const read = await download(datasets, "fenced", "1", "fenced.bin");
      expect(sha256(read.bytes)).toBe(sha256(good));
    });

    it("a client that goes away while its stream waits for budget ends the wait and frees the upload at once", async () => {
      const uploads = patient.client(UploadService);
      // Two streams fill the budget with unfinished segments.
      const holders = [0, 1].map((i) => heldStream(uploads, { fileName: `holder-${i}.bin`, size: 12 * MiB }, bytesOf(12 * MiB, 60 + i), SEGMENT - 1024));
      await until(() => patient.app.uploadStats().budgetInUse === 2 * (SEGMENT - 1024), "the holders' bytes arrived");
      const waiter = heldStream(uploads, { fileName: "waiter.bin", size: 12 * MiB }, bytesOf(12 * MiB, 62), MiB);
      await until(() => patient.app.uploadStats().budgetWaiters === 1, "the third stream waits for budget");
      waiter.abort();
      expect((await waiter.result) as ConnectError).toBeInstanceOf(ConnectError);
      await until(() => patient.app.uploadStats().budgetWaiters === 0, "the wait ended");
      await until(async () => {
        const row = await patient.app.db.selectFrom("uploads").select("writerToken").where("fileName", "=", "waiter.bin").executeTakeFirst();
        return row?.writerToken === null;
      }, "the writer lease is released");
      for (const h of holders) h.abort();
      await Promise.all(holders.map((h) => h.result));
      await until(() => patient.app.uploadStats().activeStreams === 0, "every stream ended");
    });

    it("an abort of receive() (a shutdown) ends it at once with the reason, naming where to resume, and frees the upload", async () => {
      const { orgId } = await patient.app.authenticator.authenticate(patient.apiKey, "test");
      const service = createUploadService({
        db: patient.app.db,
        store: patient.app.store,
        now: () => new Date(Date.now() + skewMs),
        segmentBytes: SEGMENT,
        maxArtefactBytes: 100 * MiB,
        uploadTtlSeconds: 3600,
        inFlightBytes: 2 * SEGMENT,
      });
      const data = bytesOf(12 * MiB, 70);
      const shutdown = new AbortController();
      let sent = 0;
      async function* chunks() {
        for (; sent < 6 * MiB; sent += MiB) yield data.subarray(sent, sent + MiB);
        await new Promise(() => undefined); // the client goes quiet: receive() waits for the next chunk
      }
      const received = service.receive(orgId, { kind: "new", fileName: "shutdown.bin", mediaType: "application/octet-stream", size: data.length, sha256: undefined }, chunks(), shutdown.signal);
      const refused = received.catch((e: unknown) => e);
      await until(() => sent >= 6 * MiB, "the first bytes were sent");
      await until(async () => ((await patient.app.db.selectFrom("uploads").select("bytesReceived").where("fileName", "=", "shutdown.bin").executeTakeFirst())?.bytesReceived ?? 0) >= SEGMENT, "segment 0 is durable");
      shutdown.abort(new UnavailableError("server shutting down"));
      const error = await refused;
      expect(error).toBeInstanceOf(UnavailableError);
      const row = await patient.app.db.selectFrom("uploads").selectAll().where("fileName", "=", "shutdown.bin").executeTakeFirstOrThrow();
      expect((error as Error).message).toBe(`server shutting down; resume upload "${row.id}" at offset ${SEGMENT}`);
      expect(row.writerToken).toBeNull();
      const done = await resumeUpload(patient.client(UploadService), row.id, BigInt(SEGMENT), data);
      expect(done.sha256).toBe(sha256(data));
    });

    it("many small uploads in flight at once each complete as their own upload, with their own bytes", async () => {
      const uploads = patient.client(UploadService);
      // Their rows are inserted and completed a batch at a time: no row may go to another stream.
      const files = Array.from({ length: 60 }, (_, i) => ({ name: `many-${i}.bin`, data: bytesOf(100 + i * 37, 900 + i) }));
      const done = await Promise.all(files.map((f) => upload(uploads, f.name, f.data)));
      expect(new Set(done.map((u) => u.uploadId)).size).toBe(files.length);
      for (const [i, u] of done.entries()) {
        const file = files[i] as (typeof files)[number];
        expect({ name: u.fileName, state: u.state, sha256: u.sha256, size: u.size }).toEqual({
          name: file.name,
          state: UploadState.COMPLETE,
          sha256: sha256(file.data),
          size: BigInt(file.data.length),
        });
        const stored = await uploads.getUpload({ uploadId: u.uploadId });
        expect([stored.upload?.fileName, stored.upload?.sha256]).toEqual([file.name, sha256(file.data)]);
      }
    });

    it("a completion batched with the holder's own never completes an upload for a stream that lost its claim", async () => {
      const { db } = patient.app;
      const { orgId } = await patient.app.authenticator.authenticate(patient.apiKey, "test");
      const id = `up_batchfence${Date.now().toString(36)}`;
      const times = { now: new Date(), expiresAt: new Date(Date.now() + 3_600_000) };
      await repo.insertUploads(db, [
        {
          id,
          orgId,
          objectKey: `objects/${orgId}/${id}`,
          fileName: "fenced-batch.bin",
          mediaType: "application/octet-stream",
          declaredSize: 3,
          declaredSha256: null,
          state: "in_progress",
          bytesReceived: 0,
          segmentCount: 0,
          sha256: null,
          discardReason: null,
          writerToken: "holder",
          writerLeaseUntil: times.expiresAt,
          expiresAt: times.expiresAt,
        },
      ]);
      const [stale, holder] = await repo.completeUploads(db, [
        { id, token: "lost-claim", sha256: "a".repeat(64), size: 3, ...times },
        { id, token: "holder", sha256: "b".repeat(64), size: 3, ...times },
      ]);
      expect(stale).toBeUndefined();
      expect(holder?.state).toBe("complete");
      expect(holder?.sha256).toBe("b".repeat(64));
      await repo.markDiscarded(db, id, "test done", new Date());
    });
  });
});
