/**
 * Janitor passes against each other and against commits: one pass at a time
 * per database, blob deletions owned by the pass that claimed them, and no
 * late delete ever removing bytes that were uploaded and committed again in
 * the meantime (issue 9: two passes, a re-upload and re-commit in between).
 *
 * Interleavings are made deterministic with the real store behind a gate
 * (test/support/gates.ts) and the commit's step hook; nothing sleeps.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { createStore } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { bytesOf, download, outcomeOf, sha256, uploadMessages } from "../support/data.js";
import { gatedStore } from "../support/gates.js";
import { backendEnv, backends, startTestServer, type TestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

const MiB = 1024 * 1024;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Past every upload's expiry. */
const farFuture = () => new Date(Date.now() + 2 * 24 * HOUR);

describe.each(backends())("janitor passes racing commits on $name", (backend) => {
  let dir: string;
  let gate: ReturnType<typeof gatedStore>;
  /** Two replicas on one database and store (on the embedded backend, one process runs both passes). */
  let replicaA: TestServer;
  let replicaB: TestServer;
  let seed = 9000;

  beforeAll(async () => {
    if (!backend.available) return;
    dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-races-"));
    const env = { ...(await backendEnv(backend.name, dir)), TRAINTRACK_API_KEY: `tt_test_${uniqueSuffix()}${uniqueSuffix()}` };
    gate = gatedStore(await createStore(loadConfig(env).storage));
    replicaA = await startTestServer(backend.name, { reuseEnv: env, overrides: { store: gate.store } });
    replicaB = backend.name === "embedded" ? replicaA : await startTestServer(backend.name, { reuseEnv: env });
  });
  afterAll(async () => {
    gate?.releaseAll();
    if (replicaB !== replicaA) await replicaB?.close();
    await replicaA?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    gate?.releaseAll();
  });

  const clients = () => ({ uploads: replicaA.client(UploadService), datasets: replicaA.client(DatasetService) });
  const orgOf = async (uploadId: string) =>
    (await replicaA.app.db.selectFrom("uploads").select("orgId").where("id", "=", uploadId).executeTakeFirstOrThrow()).orgId;

  /** Uploads `data`; the upload id, or the code the upload failed with. */
  async function tryUpload(fileName: string, data: Buffer): Promise<{ uploadId: string } | { failed: string }> {
    try {
      const { upload } = await clients().uploads.upload(uploadMessages(fileName, data));
      return { uploadId: upload?.uploadId ?? "" };
    } catch (error) {
      return { failed: Code[ConnectError.from(error).code] };
    }
  }

  /**
   * An unreferenced blob whose lease ran out, with its object, as a commit
   * killed by an earlier version left them (commits now insert blob rows
   * together with their references, so they leave none).
   */
  async function orphanBlob(data: Buffer): Promise<{ orgId: string; key: string }> {
    const probe = await tryUpload("probe.txt", bytesOf(16, seed++));
    if (!("uploadId" in probe)) throw new Error(`upload failed: ${probe.failed}`);
    const orgId = await orgOf(probe.uploadId);
    const sha = sha256(data);
    const key = `blobs/${orgId}/sha256/${sha.slice(0, 2)}/${sha}`;
    await replicaA.app.store.put(key, Readable.from([data]), data.length);
    await replicaA.app.db
      .insertInto("blobs")
      .values({ orgId, sha256: sha, size: data.length, physicalKey: key, state: "live", leaseUntil: new Date(Date.now() - HOUR) })
      .execute();
    return { orgId, key };
  }

  it.skipIf(!backend.available)("a pass deleting an orphaned blob late never removes the same bytes uploaded and committed again meanwhile", async () => {
    const data = bytesOf(2 * MiB + 17, seed++);
    const { key } = await orphanBlob(data);

    // Pass A marks the orphan and stops just before deleting its object.
    const held = gate.holdDelete([key]);
    const passA = replicaA.app.janitor.runOnce(farFuture());
    await held.reached;
    // Pass B (another replica, or the next pass on this one) runs meanwhile.
    const passB = await replicaB.app.janitor.runOnce(farFuture());

    // The same bytes are uploaded and committed again while pass A is still going.
    const again = await tryUpload("again.bin", data);
    if (!("uploadId" in again)) throw new Error(`upload failed: ${again.failed}`);
    const request = { name: `again-${uniqueSuffix()}`, version: "1", artefacts: [{ uploadId: again.uploadId, path: "again.bin" }] };
    // Bytes that are being deleted are refused (ABORTED) while it happens; the client retries, as the SDK does.
    expect(await outcomeOf(clients().datasets.createDataset(request))).toBe("Aborted");
    held.release();
    const reportA = await passA;
    await clients().datasets.createDataset(request);
    const got = await download(clients().datasets, request.name, "1", "again.bin");
    expect({ size: got.bytes.length, sha256: sha256(got.bytes) }).toEqual({ size: data.length, sha256: sha256(data) });

    expect(passB.skipped).toBe(true);
    expect(reportA.skipped).toBe(false);
    expect(reportA.deletedBlobs).toBeGreaterThanOrEqual(1);
    expect(await replicaA.app.store.stat(key)).toBeUndefined();
  });

  it.skipIf(!backend.available)("a claim left by a dead pass is taken over only once it is older than the bound", async () => {
    const data = bytesOf(1000, seed++);
    const { orgId, key } = await orphanBlob(data);
    const now = Date.now();
    // As a pass that died after claiming would leave it.
    await replicaA.app.db
      .updateTable("blobs")
      .set({ state: "deleting", claimedBy: "jp_dead", claimedAt: new Date(now), leaseUntil: new Date(now - MINUTE) })
      .where("orgId", "=", orgId)
      .where("sha256", "=", sha256(data))
      .execute();
    const row = () => replicaA.app.db.selectFrom("blobs").select(["state", "claimedBy"]).where("sha256", "=", sha256(data)).executeTakeFirst();

    await replicaA.app.janitor.runOnce(new Date(now + 5 * MINUTE));
    expect(await row()).toEqual({ state: "deleting", claimedBy: "jp_dead" });
    expect((await replicaA.app.store.stat(key))?.size).toBe(data.length);

    // The default bound is 15 minutes.
    const report = await replicaA.app.janitor.runOnce(new Date(now + 16 * MINUTE));
    expect(report.deletedBlobs).toBeGreaterThanOrEqual(1);
    expect(await row()).toBeUndefined();
    expect(await replicaA.app.store.stat(key)).toBeUndefined();
  });

  it.skipIf(!backend.available)("a claim taken over is re-checked: bytes an artefact references go back to live", async () => {
    const data = bytesOf(2 * MiB + 5, seed++);
    const uploaded = await tryUpload("kept.bin", data);
    if (!("uploadId" in uploaded)) throw new Error(`upload failed: ${uploaded.failed}`);
    const name = `kept-${uniqueSuffix()}`;
    await clients().datasets.createDataset({ name, version: "1", artefacts: [{ uploadId: uploaded.uploadId }] });
    // A claim on referenced bytes, as a race lost between a claim and a commit would leave it.
    const now = Date.now();
    await replicaA.app.db
      .updateTable("blobs")
      .set({ state: "deleting", claimedBy: "jp_dead", claimedAt: new Date(now - HOUR), leaseUntil: new Date(now - HOUR) })
      .where("sha256", "=", sha256(data))
      .execute();

    await replicaA.app.janitor.runOnce(new Date(now));
    const row = await replicaA.app.db.selectFrom("blobs").select(["state", "claimedBy"]).where("sha256", "=", sha256(data)).executeTakeFirst();
    expect(row).toEqual({ state: "live", claimedBy: null });
    expect(sha256((await download(clients().datasets, name, "1", "kept.bin")).bytes)).toBe(sha256(data));
  });
});
