/**
 * An upgrade over data the landed code wrote. The server of the revision
 * below (the last one whose blobs lived at content-addressed keys, and whose
 * uploads were staged in separate segment objects) runs from `git archive`
 * as a child process, writes datasets, run artefacts and uploads left in
 * every state; then this checkout's server opens the same database and
 * store, migrates, and must read every artefact back byte for byte without
 * copying a blob, commit what it can of the old uploads and refuse the rest
 * with what to do.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService, UploadState } from "../../gen/traintrack/v1/upload_pb.js";
import { startChildServer } from "../support/child-server.js";
import { bytesOf, download, resumeUpload, sha256, upload } from "../support/data.js";
import { backendEnv, backends, startTestServer, type TestServer, withKey } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

/** Landed at stop 8: content-addressed blobs (`blobs/<org>/sha256/…`) and staged segment objects. */
const LANDED = "396dd4b";
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MiB = 1024 * 1024;
const SEGMENT = 5 * MiB;
const DAY = 24 * 3600 * 1000;

/** The landed revision's server, runnable: its sources from git, this checkout's node_modules (the same lockfile). */
async function landedCheckout(dir: string): Promise<string> {
  const root = path.join(dir, "landed");
  await mkdir(root);
  const archive = execFileSync("git", ["-C", ROOT, "archive", LANDED, "src", "gen", "package.json", "tsconfig.json"], { maxBuffer: 256 * MiB });
  execFileSync("tar", ["-x", "-C", root], { input: archive });
  await symlink(path.join(ROOT, "node_modules"), path.join(root, "node_modules"));
  return root;
}

/** Streams two segments and a bit of `data` into a new upload, then drops the stream once both are durable; the upload id. */
async function breakMidway(up: Client<typeof UploadService>, data: Buffer): Promise<string> {
  const { upload: created } = await up.createUpload({ upload: { fileName: "broken.bin", size: BigInt(data.length) } });
  const uploadId = created?.uploadId ?? "";
  const abort = new AbortController();
  async function* messages() {
    yield { payload: { case: "header" as const, value: { start: { case: "resume" as const, value: { uploadId, offset: 0n } } } } };
    for (let at = 0; at < 2 * SEGMENT + MiB; at += MiB) yield { payload: { case: "chunk" as const, value: data.subarray(at, at + MiB) } };
    while (((await up.getUpload({ uploadId })).upload?.bytesReceived ?? 0n) < BigInt(2 * SEGMENT)) await new Promise((r) => setTimeout(r, 20));
    abort.abort();
  }
  await up.upload(messages(), { signal: abort.signal }).catch(() => undefined);
  return uploadId;
}

describe.each(backends())("an upgrade from the landed code on $name", (backend) => {
  let dir: string;
  let server: TestServer;
  const key = `tt_test_${uniqueSuffix()}${uniqueSuffix()}`;
  const large = bytesOf(2 * SEGMENT + 12_345, 801);
  const small = bytesOf(40_000, 802);
  const runFile = bytesOf(3 * MiB + 1, 803);
  const pendingSmall = bytesOf(5000, 804);
  const pendingLarge = bytesOf(SEGMENT + 99, 805);
  const broken = bytesOf(3 * SEGMENT, 806);
  let runId = "";
  const uploads: Record<"pendingSmall" | "pendingLarge" | "broken", string> = { pendingSmall: "", pendingLarge: "", broken: "" };

  beforeAll(async () => {
    if (!backend.available) return;
    dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-upgrade-"));
    const env = { ...(await backendEnv(backend.name, dir)), TRAINTRACK_API_KEY: key, TRAINTRACK_SEGMENT_BYTES: String(SEGMENT) };
    const old = await startChildServer(env, { root: await landedCheckout(dir) });
    try {
      const transport = withKey(createGrpcTransport({ baseUrl: old.baseUrl }), key);
      const [up, ds] = [createClient(UploadService, transport), createClient(DatasetService, transport)];
      const [l, s] = [await upload(up, "train.bin", large), await upload(up, "labels.csv", small)];
      await ds.createDataset({ name: "legacy", version: "1", artefacts: [{ uploadId: l.uploadId }, { uploadId: s.uploadId }] });
      runId = (await createClient(ExperimentService, transport).createRun({ project: "p", experiment: "e" })).run?.runId ?? "";
      const r = await upload(up, "model.pt", runFile);
      await createClient(RunArtefactService, transport).logRunArtefacts({ runId, artefacts: [{ uploadId: r.uploadId }] });
      // Uploads left in each state: complete but not committed (small: written to its blob; large: staged), broken mid-way.
      uploads.pendingSmall = (await upload(up, "pending.json", pendingSmall)).uploadId;
      uploads.pendingLarge = (await upload(up, "pending.bin", pendingLarge)).uploadId;
      uploads.broken = await breakMidway(up, broken);
    } finally {
      await old.stop();
    }
    server = await startTestServer(backend.name, { reuseEnv: env });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!backend.available)("reads every artefact back byte for byte, from where its blob already was", async () => {
    const datasets = server.client(DatasetService);
    for (const [p, data] of [["train.bin", large], ["labels.csv", small]] as const) {
      const got = await download(datasets, "legacy", "1", p);
      expect({ p, sha256: sha256(got.bytes) }).toEqual({ p, sha256: sha256(data) });
    }
    const parts: Buffer[] = [];
    for await (const m of server.client(RunArtefactService).downloadRunArtefact({ runId, path: "model.pt" })) {
      if (m.payload.case === "chunk") parts.push(Buffer.from(m.payload.value));
    }
    expect(sha256(Buffer.concat(parts))).toBe(sha256(runFile));
    // Nothing was copied: every blob row points at the content-addressed key the landed code wrote.
    const blobs = await server.app.db.selectFrom("blobs").select(["orgId", "sha256", "physicalKey"]).execute();
    expect(blobs.length).toBeGreaterThanOrEqual(3);
    for (const b of blobs) expect(b.physicalKey).toBe(`blobs/${b.orgId}/sha256/${b.sha256.slice(0, 2)}/${b.sha256}`);
  });

  it.skipIf(!backend.available)("the key from before teams is an owner's key of its organisation, and the instance administrator's", async () => {
    const me = await server.client(AccessService).whoAmI({});
    expect({ role: me.organizationRole, admin: me.instanceAdmin, user: me.user?.userName, key: me.key?.userId }).toEqual({
      role: Role.OWNER,
      admin: true,
      user: "admin",
      key: me.user?.id,
    });
    // And it can do what owners do: make a user, who then holds no role until granted one.
    const { user } = await server.client(UserService).createUser({ userName: "after-upgrade" });
    expect(user?.active).toBe(true);
  });

  it.skipIf(!backend.available)("commits a small upload the landed code completed, and refuses its staged one with what to do", async () => {
    const datasets = server.client(DatasetService);
    await datasets.createDataset({ name: "pending", version: "1", artefacts: [{ uploadId: uploads.pendingSmall }] });
    expect(sha256((await download(datasets, "pending", "1", "pending.json")).bytes)).toBe(sha256(pendingSmall));
    const refused = await datasets
      .createDataset({ name: "pending-large", version: "1", artefacts: [{ uploadId: uploads.pendingLarge }] })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect({ code: (refused as ConnectError).code, upload: (refused as ConnectError).rawMessage.includes(uploads.pendingLarge) }).toEqual({
      code: Code.FailedPrecondition,
      upload: true,
    });
    expect((refused as ConnectError).rawMessage).toContain("upload the file again");
  });

  it.skipIf(!backend.available)("an upload the landed code left mid-way is refused at resume with what to do", async () => {
    const up = server.client(UploadService);
    const refused = await resumeUpload(up, uploads.broken, BigInt(2 * SEGMENT), broken).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((refused as ConnectError).rawMessage).toContain("upload the file again");
    expect((await up.getUpload({ uploadId: uploads.broken })).upload?.state).toBe(UploadState.DISCARDED);
  });

  it.skipIf(!backend.available)("bytes uploaded again reuse the blob stored before, and the janitor leaves old blobs and removes old staging", async () => {
    const datasets = server.client(DatasetService);
    const again = await upload(server.client(UploadService), "train.bin", large);
    await datasets.createDataset({ name: "legacy-again", version: "1", artefacts: [{ uploadId: again.uploadId }] });
    // The new upload's object was a duplicate of the old blob: deleted after the commit.
    const { objectKey } = await server.app.db.selectFrom("uploads").select("objectKey").where("id", "=", again.uploadId).executeTakeFirstOrThrow();
    expect(await server.app.store.stat(objectKey ?? "")).toBeUndefined();

    await server.app.janitor.runOnce(new Date(Date.now() + 2 * DAY));
    const staged: string[] = [];
    for await (const o of server.app.store.list("staging/")) staged.push(o.key);
    expect(staged).toEqual([]);
    for (const name of ["legacy", "legacy-again"]) expect(sha256((await download(datasets, name, "1", "train.bin")).bytes)).toBe(sha256(large));
    expect(sha256((await download(datasets, "legacy", "1", "labels.csv")).bytes)).toBe(sha256(small));
    expect((await server.client(UploadService).getUpload({ uploadId: uploads.pendingLarge })).upload?.state).toBe(UploadState.DISCARDED);
  });
});
