/**
 * CreateDataset (and LogRunArtefacts, which commits by the same protocol)
 * under failure. At each step of the commit protocol
 * (src/services/upload-commit.ts: plan → one transaction → purge duplicates),
 * and where an upload completes its object, a test injects a storage error, a
 * database error, or kills the server process outright; after a restart and a
 * cleanup pass, the version must be wholly there or wholly absent, and no
 * object in storage may be left that nothing references: not an upload's
 * object holding bytes stored before, not an unfinished multipart upload.
 *
 * Failures are injected into the real server: the real object store is
 * wrapped in a thin switch that fails one kind of call, the commit's step hook
 * throws or blocks, and for crashes the server runs as a child process
 * (test/support/crash-server.ts) that SIGKILLs itself at the chosen step.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CreateDatasetRequestSchema, DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService, UploadState } from "../../gen/traintrack/v1/upload_pb.js";
import { createStore } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { CommitStep } from "../../src/services/upload-commit.js";
import type { ObjectStore } from "../../src/storage/object-store.js";
import { bytesOf, download, outcomeOf, resumeUpload, sha256, uploadMessages } from "../support/data.js";
import { backendEnv, backends, startTestServer, type TestServer, withKey } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

const MiB = 1024 * 1024;
const HOUR = 60 * 60 * 1000;
// The smallest segment the server accepts: the large artefact spans two
// segments, so its object is completed from several parts.
const SEGMENT_BYTES = 5 * MiB;
const VERSION = "1.0.0";
const CRASH_SERVER = fileURLToPath(new URL("../support/crash-server.ts", import.meta.url));

/** Past the staging grace, well before the 24-hour upload TTL. */
const pastGrace = () => new Date(Date.now() + HOUR + 5 * 60_000);
/** Past every lease, grace period and TTL: uploads not committed by then expire. */
const farFuture = () => new Date(Date.now() + 2 * 24 * HOUR);

interface ArtefactSpec {
  path: string;
  data: Buffer;
  sha256: string;
}

interface VersionSpec {
  name: string;
  artefacts: ArtefactSpec[];
}

let nextSeed = 1000;

/**
 * A version of four artefacts whose bytes no other test uses (bytes already
 * stored would be reused, not adopted): one spanning two segments, two with
 * the same bytes under different paths, sharing one blob (one of their
 * uploads' objects is a duplicate), and a tiny one, written in one put.
 */
function newVersion(): VersionSpec {
  const big = bytesOf(SEGMENT_BYTES + 123_457, nextSeed++);
  const staged = bytesOf(2 * 1024 * 1024 + 1, nextSeed++);
  const tiny = bytesOf(4096, nextSeed++);
  const artefact = (p: string, data: Buffer) => ({ path: p, data, sha256: sha256(data) });
  return {
    name: `ds-${uniqueSuffix()}`,
    artefacts: [
      artefact("train/shards.bin", big),
      artefact("eval/labels.csv", staged),
      artefact("eval/labels-copy.csv", staged),
      artefact("meta/schema.json", tiny),
    ],
  };
}

interface Clients {
  uploads: Client<typeof UploadService>;
  datasets: Client<typeof DatasetService>;
}

function clientsOf(server: TestServer): Clients {
  return { uploads: server.client(UploadService), datasets: server.client(DatasetService) };
}

function clientsAt(port: number, key: string): Clients {
  const transport = withKey(createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }), key);
  return { uploads: createClient(UploadService, transport), datasets: createClient(DatasetService, transport) };
}

/** Uploads every artefact of `v`; returns the upload ids, once all are COMPLETE. */
async function uploadAll(c: Clients, v: VersionSpec): Promise<string[]> {
  return Promise.all(
    v.artefacts.map(async ({ path: p, data, sha256: sha }) => {
      const { upload } = await c.uploads.upload(uploadMessages(path.posix.basename(p), data, { sha256: sha }));
      expect(upload?.state).toBe(UploadState.COMPLETE);
      return upload?.uploadId ?? "";
    }),
  );
}

function createRequest(v: VersionSpec, uploadIds: readonly string[]): MessageInitShape<typeof CreateDatasetRequestSchema> {
  return {
    name: v.name,
    version: VERSION,
    description: "committed while things break",
    metadata: { suite: "commit-failures" },
    artefacts: v.artefacts.map((a, i) => ({ uploadId: uploadIds[i] ?? "", path: a.path })),
  };
}

/** "all COMPLETE" when every upload is COMPLETE, and so on; else the states found. */
async function uploadStates(c: Clients, ids: readonly string[]): Promise<string> {
  const rows = await Promise.all(ids.map((uploadId) => c.uploads.getUpload({ uploadId })));
  const states = new Set(rows.map(({ upload }) => UploadState[upload?.state ?? UploadState.UNSPECIFIED]));
  return states.size === 1 ? `all ${[...states].join()}` : [...states].join(", ");
}

/** The version is there with every artefact, and every artefact reads back byte for byte. */
async function expectWhollyPresent(c: Clients, v: VersionSpec): Promise<void> {
  const { name } = v;
  const { dataset } = await c.datasets.getDataset({ name, version: VERSION });
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : 1);
  expect(dataset?.artefacts.map((a) => ({ path: a.path, size: a.size, sha256: a.sha256 })).sort(byPath)).toEqual(
    v.artefacts.map((a) => ({ path: a.path, size: BigInt(a.data.length), sha256: a.sha256 })).sort(byPath),
  );
  expect(dataset?.totalSize).toBe(BigInt(v.artefacts.reduce((sum, a) => sum + a.data.length, 0)));
  const { datasets } = await c.datasets.listDatasets({ namePrefix: name });
  expect(datasets.filter((d) => d.name === name).map((d) => d.latestVersion)).toEqual([VERSION]);
  for (const a of v.artefacts) {
    const { bytes, sha256: described } = await download(c.datasets, name, VERSION, a.path);
    const got = { path: a.path, size: bytes.length, sha256: sha256(bytes), described, identical: bytes.equals(a.data) };
    expect(got).toEqual({ path: a.path, size: a.data.length, sha256: a.sha256, described: a.sha256, identical: true });
  }
}

/** No trace of the version through any read. */
async function expectWhollyAbsent(c: Clients, v: VersionSpec): Promise<void> {
  const { name } = v;
  expect(await outcomeOf(c.datasets.getDataset({ name, version: VERSION }))).toBe("NotFound");
  expect(await outcomeOf(c.datasets.getDataset({ name }))).toBe("NotFound");
  expect(await outcomeOf(c.datasets.listDatasetVersions({ name }))).toBe("NotFound");
  const { datasets } = await c.datasets.listDatasets({ namePrefix: name });
  expect(datasets.filter((d) => d.name === name)).toEqual([]);
  for (const a of v.artefacts) expect(await outcomeOf(download(c.datasets, name, VERSION, a.path))).toBe("NotFound");
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/**
 * Everything in storage that should not be there, by kind; all empty when
 * storage is clean. An upload's object must be a blob's (its physical key) or
 * belong to an upload that can still be committed; every artefact's blob must
 * have its object; every blob row must be live and referenced; no object may
 * be left unfinished (started in parts) but by an upload in progress; nothing
 * is written where earlier versions wrote (content-addressed keys, staging).
 */
async function leftovers(server: TestServer) {
  const { app, config } = server;
  const artefacts = [
    ...(await app.db.selectFrom("artefacts").select(["orgId", "sha256"]).execute()),
    ...(await app.db.selectFrom("runArtefacts").select(["orgId", "sha256"]).execute()),
  ];
  const referenced = new Set(artefacts.map((a) => `${a.orgId}/${a.sha256}`));
  const blobRows = await app.db.selectFrom("blobs").select(["orgId", "sha256", "state", "physicalKey"]).execute();
  const blobAt = new Map(blobRows.map((b) => [`${b.orgId}/${b.sha256}`, b.physicalKey]));
  const uploads = await app.db.selectFrom("uploads").select(["id", "state", "objectKey"]).execute();
  const committable = new Set(uploads.filter((u) => u.state === "in_progress" || u.state === "complete").map((u) => u.objectKey));
  const writing = new Set(uploads.filter((u) => u.state === "in_progress").map((u) => u.objectKey));
  const objects = new Set((await collect(app.store.list("objects/"))).map((o) => o.key));
  const kept = new Set(blobRows.map((b) => b.physicalKey));
  const legacy = [...(await collect(app.store.list("blobs/"))), ...(await collect(app.store.list("staging/")))];
  // The local store writes through temp and partial files that list() does not show; its root appears with the first object.
  const missing = (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? [] : Promise.reject(e));
  const files = config.storage.kind === "local" ? await readdir(config.storage.root, { recursive: true, withFileTypes: true }).catch(missing) : [];
  return {
    strayObjects: [...objects].filter((key) => !kept.has(key) && !committable.has(key)),
    missingBlobs: artefacts.filter((a) => !objects.has(blobAt.get(`${a.orgId}/${a.sha256}`) ?? "")).map((a) => a.sha256),
    unreferencedBlobRows: blobRows.filter((b) => b.state !== "live" || !referenced.has(`${b.orgId}/${b.sha256}`)),
    unfinishedParts: (await collect(app.store.listStarted("objects/"))).filter((o) => !writing.has(o.key)).map((o) => o.key),
    legacyObjects: legacy.map((o) => o.key),
    tempFiles: writing.size > 0 ? [] : files.filter((f) => f.isFile() && f.name.includes(".tmp-")).map((f) => f.name),
  };
}

const CLEAN = { strayObjects: [], missingBlobs: [], unreferencedBlobRows: [], unfinishedParts: [], legacyObjects: [], tempFiles: [] };

type StoreMethod = Exclude<keyof ObjectStore, "list" | "listStarted">;

/**
 * The real store behind a switch: once armed, calls to one method fail from
 * the nth on, until healed (with `answerLost`, after the real call succeeded:
 * what a caller sees when a connection drops just before the answer). Every
 * other call, and every call before the nth, goes to the real store.
 */
function faultInjectingStore(real: ObjectStore) {
  let fault: { method: StoreMethod; from: number; calls: number; error: (method: string) => Error; answerLost: boolean } | undefined;
  const tripped = (method: StoreMethod) => {
    if (fault?.method !== method) return false;
    fault.calls += 1;
    return fault.calls >= fault.from;
  };
  const wrap =
    <M extends StoreMethod>(method: M) =>
    async (...args: Parameters<ObjectStore[M]>): Promise<Awaited<ReturnType<ObjectStore[M]>>> => {
      const trip = tripped(method) ? fault : undefined;
      if (trip && !trip.answerLost) throw trip.error(method);
      const call = real[method] as (...a: Parameters<ObjectStore[M]>) => Promise<Awaited<ReturnType<ObjectStore[M]>>>;
      const result = await call(...args);
      if (trip) throw trip.error(method);
      return result;
    };
  const store: ObjectStore = {
    put: wrap("put"),
    get: wrap("get"),
    stat: wrap("stat"),
    delete: wrap("delete"),
    startParts: wrap("startParts"),
    putPart: wrap("putPart"),
    completeParts: wrap("completeParts"),
    abortParts: wrap("abortParts"),
    list: (prefix) => real.list(prefix),
    listStarted: (prefix) => real.listStarted(prefix),
  };
  return {
    store,
    fail(method: StoreMethod, from: number, error: (method: string) => Error, opts: { answerLost?: boolean } = {}) {
      fault = { method, from, calls: 0, error, answerLost: opts.answerLost ?? false };
    },
    heal() {
      fault = undefined;
    },
  };
}

/** What a dropped connection to object storage looks like to the server: retryable. */
const storageUnreachable = (method: string) =>
  Object.assign(new Error(`injected: connection to object storage reset during ${method}`), { code: "ECONNRESET" });
/** An error the store reports that the server cannot classify, e.g. S3's InternalError. */
const storageFailed = (method: string) =>
  Object.assign(new Error(`injected: object storage failed a ${method}`), { code: "InternalError" });
/** PostgreSQL's admin_shutdown: the connection went away mid-transaction. */
const databaseGone = (step: string) => Object.assign(new Error(`injected: terminating connection at ${step}`), { code: "57P01" });
/** PostgreSQL's internal_error. */
const databaseFailed = (step: string) => Object.assign(new Error(`injected: database failed at ${step}`), { code: "XX000" });

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

interface CrashServer {
  port: number;
  /** How the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it printed on stderr so far. */
  stderr(): string;
  /** Kills the process if it is still running, and waits until it has ended. */
  stop(): Promise<void>;
}

/** Starts test/support/crash-server.ts as a child process over `env`; resolves once it listens. */
async function startCrashServer(env: Record<string, string>, crashAt: CommitStep): Promise<CrashServer> {
  // Only the variables given: a developer's own TRAINTRACK_* settings must not leak in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TRAINTRACK_")));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", CRASH_SERVER], {
    env: { ...inherited, ...env, TRAINTRACK_TEST_CRASH_AT: crashAt },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      if (!child.stdout) return reject(new Error("the crash server has no stdout"));
      createInterface({ input: child.stdout }).on("line", (line) => {
        const match = /^listening (\d+)$/.exec(line);
        if (match) resolve(Number(match[1]));
      });
      void exited.then(({ code, signal }) => reject(new Error(`the crash server ended (${signal ?? code}) before listening:\n${stderr}`)));
    });
    return { port, exited, stop, stderr: () => stderr };
  } catch (error) {
    await stop();
    throw error;
  }
}

describe.each(backends())("CreateDataset under failure on $name", (backend) => {
  const key = `tt_test_${uniqueSuffix()}${uniqueSuffix()}`;
  // Creating an embedded database takes seconds: every server here starts from a copy of one made once.
  let template: { dir: string; dataDir: string } | undefined;
  beforeAll(async () => {
    if (!backend.available || backend.name !== "embedded") return;
    const dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-template-"));
    const env = { ...(await backendEnv(backend.name, dir)), TRAINTRACK_API_KEY: key };
    const { database } = loadConfig(env);
    if (database.kind !== "pglite") throw new Error("the embedded backend is expected to use PGlite");
    await (await startTestServer(backend.name, { reuseEnv: env })).close();
    template = { dir, dataDir: database.dataDir };
  });
  afterAll(async () => {
    if (template) await rm(template.dir, { recursive: true, force: true });
  });

  /** A fresh database and storage, the admin key already created. */
  async function freshEnv(dir: string): Promise<Record<string, string>> {
    const env = { ...(await backendEnv(backend.name, dir)), TRAINTRACK_SEGMENT_BYTES: String(SEGMENT_BYTES), TRAINTRACK_API_KEY: key };
    const { database } = loadConfig(env);
    if (template && database.kind === "pglite") await cp(template.dataDir, database.dataDir, { recursive: true });
    return env;
  }

  describe.skipIf(!backend.available)("storage and database errors", () => {
    let server: TestServer;
    let faults: ReturnType<typeof faultInjectingStore>;
    let onStep: ((step: CommitStep) => void | Promise<void>) | undefined;
    let dir: string;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-commit-"));
      const env = await freshEnv(dir);
      faults = faultInjectingStore(await createStore(loadConfig(env).storage));
      server = await startTestServer(backend.name, {
        reuseEnv: env,
        overrides: { store: faults.store, onCommitStep: (step) => onStep?.(step) },
      });
    });
    afterAll(async () => {
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    });
    // Releases a commit a test left paused (say, on a timeout), so the server can close.
    let unpause: (() => void) | undefined;
    afterEach(() => {
      faults.heal();
      onStep = undefined;
      unpause?.();
    });

    /**
     * Commits with a fault armed by `inject`: expects the call to end with
     * `failedWith` and the version to be wholly `after`; then lets the janitor
     * reclaim what the failure left, and retries the same request healed.
     */
    async function commitThroughFault(opts: {
      inject: () => void;
      failedWith: string;
      after: "absent" | "present";
      version?: VersionSpec;
    }): Promise<void> {
      const c = clientsOf(server);
      const v = opts.version ?? newVersion();
      const ids = await uploadAll(c, v);
      const request = createRequest(v, ids);
      opts.inject();
      const outcome = await outcomeOf(c.datasets.createDataset(request));
      faults.heal();
      onStep = undefined;
      expect(outcome).toBe(opts.failedWith);

      if (opts.after === "absent") {
        await expectWhollyAbsent(c, v);
        expect(await uploadStates(c, ids)).toBe("all COMPLETE");
      } else {
        await expectWhollyPresent(c, v);
        expect(await uploadStates(c, ids)).toBe("all COMMITTED");
      }
      // Nothing the failed attempt did is left; the uploads' objects wait for a retry.
      await server.app.janitor.runOnce(pastGrace());
      expect(await leftovers(server)).toEqual(CLEAN);

      const retried = await c.datasets.createDataset(request);
      expect(retried.dataset?.artefactCount).toBe(v.artefacts.length);
      await expectWhollyPresent(c, v);
      expect(await uploadStates(c, ids)).toBe("all COMMITTED");

      await server.app.janitor.runOnce(farFuture());
      expect(await leftovers(server)).toEqual(CLEAN);
      await expectWhollyPresent(c, v);
    }

    it("a storage error while checking bytes stored before leaves no version; a retry commits it", async () => {
      // A committed version holds the same bytes, so the commit checks its blobs instead of copying them.
      const c = clientsOf(server);
      const earlier = newVersion();
      await c.datasets.createDataset(createRequest(earlier, await uploadAll(c, earlier)));
      const v = { name: `ds-${uniqueSuffix()}`, artefacts: earlier.artefacts };
      const inject = () => faults.fail("stat", 1, storageUnreachable);
      await commitThroughFault({ inject, failedWith: "Unavailable", after: "absent", version: v });
      await expectWhollyPresent(c, earlier);
    });

    it("a storage error deleting the duplicate after the commit still commits; the janitor reclaims it", async () => {
      await commitThroughFault({ inject: () => faults.fail("delete", 1, storageUnreachable), failedWith: "OK", after: "present" });
    });

    /**
     * Streams the large artefact of a new version into an upload made with
     * CreateUpload, with a fault armed by `inject`: the stream must fail with
     * `failedWith`; a resume from where GetUpload says the durable bytes end
     * completes it, and the version commits whole.
     */
    async function uploadThroughFault(inject: () => void, failedWith: string): Promise<void> {
      const c = clientsOf(server);
      const v = newVersion();
      const [big, ...rest] = v.artefacts;
      if (!big) throw new Error("no large artefact");
      const { upload } = await c.uploads.createUpload({ upload: { fileName: "shards.bin", size: BigInt(big.data.length), sha256: big.sha256 } });
      const uploadId = upload?.uploadId ?? "";
      inject();
      expect(await outcomeOf(resumeUpload(c.uploads, uploadId, 0n, big.data))).toBe(failedWith);
      faults.heal();
      const broken = (await c.uploads.getUpload({ uploadId })).upload;
      expect(broken?.state).toBe(UploadState.IN_PROGRESS);
      const resumed = await resumeUpload(c.uploads, uploadId, broken?.bytesReceived ?? 0n, big.data);
      expect({ state: resumed.state, sha256: resumed.sha256 }).toEqual({ state: UploadState.COMPLETE, sha256: big.sha256 });
      const others = await uploadAll(c, { ...v, artefacts: rest });
      await c.datasets.createDataset(createRequest(v, [uploadId, ...others]));
      await expectWhollyPresent(c, v);
      await server.app.janitor.runOnce(farFuture());
      expect(await leftovers(server)).toEqual(CLEAN);
    }

    it("a storage error storing a part keeps the parts before it; a resume completes the upload", async () => {
      await uploadThroughFault(() => faults.fail("putPart", 2, storageFailed), "Internal");
    });

    it("an upload whose object was completed but the answer lost resumes with no bytes and completes", async () => {
      await uploadThroughFault(() => faults.fail("completeParts", 1, storageUnreachable, { answerLost: true }), "Unavailable");
    });

    const databaseFaults = [
      { step: "planned", error: databaseFailed, failedWith: "Internal", after: "absent" },
      // Thrown inside the version's transaction, which rolls back.
      { step: "in-transaction", error: databaseGone, failedWith: "Unavailable", after: "absent" },
      // The version is committed but the answer is lost: a retry returns the version.
      { step: "committed", error: databaseFailed, failedWith: "Internal", after: "present" },
    ] as const;

    it.each(databaseFaults)("a database error at $step leaves the version wholly $after; a retry commits it", async (fault) => {
      await commitThroughFault({
        inject: () => {
          onStep = (step) => {
            if (step === fault.step) throw fault.error(step);
          };
        },
        failedWith: fault.failedWith,
        after: fault.after,
      });
    });

    // Runs commit their artefacts by the same protocol: the same faults leave a run with all of them or none.
    const runFaults = [
      { at: "checking bytes stored before", inject: () => faults.fail("stat", 1, storageUnreachable), failedWith: "Unavailable", reused: true },
      {
        at: "the transaction",
        inject: () => {
          onStep = (step) => {
            if (step === "in-transaction") throw databaseGone(step);
          };
        },
        failedWith: "Unavailable",
        reused: false,
      },
    ];
    it.each(runFaults)("LogRunArtefacts failing at $at leaves the run without any of them; a retry commits all", async (fault) => {
      const c = clientsOf(server);
      const runArtefacts = server.client(RunArtefactService);
      const run = await server.client(ExperimentService).createRun({ project: "commit-failures", experiment: "e" });
      const runId = run.run?.runId ?? "";
      const v = newVersion();
      // Bytes a dataset holds already: the commit checks their blobs instead of adopting the uploads' objects.
      if (fault.reused) await c.datasets.createDataset(createRequest(v, await uploadAll(c, v)));
      const ids = await uploadAll(c, v);
      const request = { runId, artefacts: v.artefacts.map((a, i) => ({ uploadId: ids[i] ?? "", path: a.path })) };
      fault.inject();
      expect(await outcomeOf(runArtefacts.logRunArtefacts(request))).toBe(fault.failedWith);
      faults.heal();
      onStep = undefined;
      expect((await runArtefacts.listRunArtefacts({ runId })).artefacts).toEqual([]);
      expect(await uploadStates(c, ids)).toBe("all COMPLETE");
      await server.app.janitor.runOnce(pastGrace());
      expect(await leftovers(server)).toEqual(CLEAN);

      expect((await runArtefacts.logRunArtefacts(request)).added).toBe(v.artefacts.length);
      await server.app.janitor.runOnce(farFuture());
      expect(await leftovers(server)).toEqual(CLEAN);
      for (const a of v.artefacts) {
        const parts: Buffer[] = [];
        for await (const m of runArtefacts.downloadRunArtefact({ runId, path: a.path })) if (m.payload.case === "chunk") parts.push(Buffer.from(m.payload.value));
        expect(sha256(Buffer.concat(parts)), a.path).toBe(a.sha256);
      }
    });

    it("a commit paused after planning is invisible until it completes", async () => {
      const c = clientsOf(server);
      const v = newVersion();
      const ids = await uploadAll(c, v);
      const paused = deferred();
      const release = deferred();
      unpause = release.resolve;
      onStep = async (step) => {
        if (step !== "planned") return;
        paused.resolve();
        await release.promise;
      };
      const creating = c.datasets.createDataset(createRequest(v, ids));
      try {
        await Promise.race([paused.promise, creating.then(() => Promise.reject(new Error("the commit finished without pausing")))]);
        await expectWhollyAbsent(c, v);
        expect(await uploadStates(c, ids)).toBe("all COMPLETE");
      } finally {
        release.resolve();
      }
      expect((await creating).dataset?.artefactCount).toBe(v.artefacts.length);
      await expectWhollyPresent(c, v);
    });
  });

  describe.skipIf(!backend.available)("a killed server process", () => {
    const crashes = [
      // Nobody retries: the cleanup pass alone must reclaim everything.
      // Killed between the uploads' objects completing and the commit: a retry adopts them; unused, they expire.
      { step: "planned", after: "absent", then: "abandoned" },
      { step: "planned", after: "absent", then: "retried" },
      { step: "in-transaction", after: "absent", then: "retried" },
      // Killed after the commit, before the duplicate object was deleted: the cleanup pass deletes it.
      { step: "committed", after: "present", then: "retried" },
    ] as const;

    // Per test; afterEach, not a finally, so that a test that timed out leaves no process behind.
    let dir: string | undefined;
    let child: CrashServer | undefined;
    let server: TestServer | undefined;
    afterEach(async () => {
      await child?.stop();
      await server?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
      [dir, child, server] = [undefined, undefined, undefined];
    });

    it.each(crashes)("killed at $step, the version is wholly $after after a restart, and nothing is left over ($then)", async (crash) => {
      dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-crash-"));
      const env = await freshEnv(dir);
      const v = newVersion();
      child = await startCrashServer(env, crash.step);
      const doomed = clientsAt(child.port, key);
      const ids = await uploadAll(doomed, v);
      const request = createRequest(v, ids);
      const outcome = await outcomeOf(doomed.datasets.createDataset(request));
      expect(await child.exited, child.stderr()).toEqual({ code: null, signal: "SIGKILL" });
      // Node's http2 client closes the streams of a session whose socket
      // died with CANCEL, which connect-node reports as Canceled.
      expect(["Canceled", "Unavailable", "Internal", "Unknown"]).toContain(outcome);

      // The same database and storage (and admin key); the dead process holds nothing any more.
      server = await startTestServer(backend.name, { reuseEnv: env });
      const c = clientsOf(server);
      await server.app.janitor.runOnce(pastGrace());
      expect(await leftovers(server)).toEqual(CLEAN);

      if (crash.after === "present") {
        await expectWhollyPresent(c, v);
        expect(await uploadStates(c, ids)).toBe("all COMMITTED");
      } else {
        await expectWhollyAbsent(c, v);
        expect(await uploadStates(c, ids)).toBe("all COMPLETE");
      }
      if (crash.then === "retried") {
        expect((await c.datasets.createDataset(request)).dataset?.artefactCount).toBe(v.artefacts.length);
      }

      await server.app.janitor.runOnce(farFuture());
      expect(await leftovers(server)).toEqual(CLEAN);
      if (crash.then === "abandoned") {
        // The uploads expired unused: their bytes are gone, and a late retry is refused.
        expect(await uploadStates(c, ids)).toBe("all DISCARDED");
        expect(await outcomeOf(c.datasets.createDataset(request))).toBe("FailedPrecondition");
        await expectWhollyAbsent(c, v);
        expect(await collect(server.app.store.list(""))).toEqual([]);
      } else {
        await expectWhollyPresent(c, v);
        // Identical bytes are stored once: one object per distinct content, each a blob's.
        const objects = await collect(server.app.store.list("objects/"));
        expect(objects.length).toBe(new Set(v.artefacts.map((a) => a.sha256)).size);
      }
    });
  });
});
