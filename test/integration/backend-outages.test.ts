/**
 * The server outlives its backing services' outages. It runs as a child
 * process, so that a crash (an unhandled 'error' from the pg pool, say) shows
 * as the process ending; PostgreSQL and MinIO are the suite's own (started
 * here, not the shared ones of with-services.sh), so that stopping them does
 * not disturb the suites running beside this one.
 *
 * What a client relies on: requests before an outage succeed; during it they
 * fail at once with UNAVAILABLE and a message naming the service that is
 * unreachable (never INTERNAL, never a hang); after it they succeed again,
 * served by the same process, which was never restarted.
 *
 * Connections killed under an idle pool (pg_terminate_backend, a proxy
 * closing idle connections) cost no request: pg-pool drops a connection as
 * soon as it learns it died. A request that holds a connection at the moment
 * it is killed fails once with UNAVAILABLE; the server does not retry it
 * itself (the statement may have committed), the client may.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ProjectService } from "../../gen/traintrack/v1/experiment_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { type ChildServer, startChildServer } from "../support/child-server.js";
import { bytesOf, download, sha256, upload } from "../support/data.js";

import { type MinioServer, startMinioServer } from "../support/minio-server.js";
import { type PostgresCluster, startPostgresCluster } from "../support/pg-cluster.js";
import { pollUntil } from "../support/poll.js";
import { withKey } from "../support/server.js";
import { minioBinary, postgresBinDir, uniqueSuffix } from "../support/services.js";

const pgBin = postgresBinDir();
const minio = minioBinary();

// A hung server would show as DEADLINE_EXCEEDED here rather than as a stuck test.
const CALL = { timeoutMs: 20_000 };

/** The error a call failed with (fails the test if it succeeded or threw something else). */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe.skipIf(pgBin === undefined || minio === undefined)("backend outages", () => {
  let cluster: PostgresCluster;
  let store: MinioServer;
  let server: ChildServer;
  let dataDir: string;
  let projects: Client<typeof ProjectService>;
  let uploads: Client<typeof UploadService>;
  let datasets: Client<typeof DatasetService>;

  beforeAll(async () => {
    [cluster, store] = await Promise.all([startPostgresCluster(pgBin as string), startMinioServer(minio as string)]);
    dataDir = await mkdtemp(path.join(os.tmpdir(), "traintrack-outages-"));
    const apiKey = `tt_test_${uniqueSuffix()}${uniqueSuffix()}`;
    server = await startChildServer({
      TRAINTRACK_PORT: "0",
      TRAINTRACK_HOST: "127.0.0.1",
      TRAINTRACK_DATA_DIR: dataDir,
      TRAINTRACK_JANITOR_INTERVAL_SECONDS: "0",
      TRAINTRACK_API_KEY: apiKey,
      TRAINTRACK_DB_URL: cluster.url,
      TRAINTRACK_DB_CONNECT_TIMEOUT_MS: "2000",
      TRAINTRACK_DB_STATEMENT_TIMEOUT_MS: "2000",
      TRAINTRACK_STORAGE: "s3",
      TRAINTRACK_S3_ENDPOINT: store.endpoint,
      TRAINTRACK_S3_ACCESS_KEY: store.accessKey,
      TRAINTRACK_S3_SECRET_KEY: store.secretKey,
      TRAINTRACK_S3_REGION: store.region,
      TRAINTRACK_S3_REQUEST_TIMEOUT_MS: "10000",
    });
    const transport = withKey(createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.port}` }), apiKey);
    projects = createClient(ProjectService, transport);
    uploads = createClient(UploadService, transport);
    datasets = createClient(DatasetService, transport);
  });

  afterEach(async () => {
    // Whatever a test did to the services, the server it talked to is still the one started above.
    expect(server.ended(), `the server process ended; its log:\n${server.stderr()}`).toBeUndefined();
  });

  afterAll(async () => {
    await server?.stop();
    await Promise.all([cluster?.close(), store?.close()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const createProject = (name = `p-${uniqueSuffix()}`) => projects.createProject({ name }, CALL);
  const listProjects = () => projects.listProjects({ pageSize: 1000 }, CALL);

  /** Terminates every session the server holds; resolves once they are all gone. */
  async function terminateServerSessions(): Promise<number> {
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    try {
      // Two statements: within one, PostgreSQL may call pg_terminate_backend before the filter.
      const sessions = await admin.query<{ pid: number }>("select pid from pg_stat_activity where application_name = 'traintrack'");
      const pids = sessions.rows.map((r) => r.pid);
      await admin.query("select pg_terminate_backend(pid) from unnest($1::int[]) as pid", [pids]);
      await pollUntil("the terminated sessions are gone", async () => {
        const left = await admin.query("select 1 from pg_stat_activity where pid = any($1::int[])", [pids]);
        return left.rowCount === 0;
      });
      return pids.length;
    } finally {
      await admin.end();
    }
  }

  it("pg_ctl restart -m fast: the server keeps running and the next request succeeds", async () => {
    const before = await createProject();
    await cluster.restart();
    const after = await listProjects();
    expect(after.projects.map((p) => p.name)).toContain(before.project?.name);
    await createProject();
  });

  it("while PostgreSQL is down, requests fail at once with UNAVAILABLE saying the database is unreachable; then succeed again", async () => {
    await createProject();
    await cluster.stop();
    try {
      for (const call of [createProject(), listProjects(), createProject()]) {
        const error = await failure(call);
        expect(error.code).toBe(Code.Unavailable);
        expect(error.rawMessage).toMatch(/^the database is unreachable/);
      }
    } finally {
      await cluster.start();
    }
    const { project } = await createProject();
    expect((await listProjects()).projects.map((p) => p.name)).toContain(project?.name);
  });

  it("pg_terminate_backend of every server connection while idle: no request fails", async () => {
    // Several connections in the pool, all idle once these return.
    await Promise.all(Array.from({ length: 8 }, () => listProjects()));
    expect(await terminateServerSessions()).toBeGreaterThan(0);
    const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => (i % 2 ? listProjects() : createProject())));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
  });

  it("connections killed under load: a request fails only with UNAVAILABLE, and the server serves on", async () => {
    let stop = false;
    const outcomes: unknown[] = [];
    const worker = async () => {
      while (!stop) {
        outcomes.push(await createProject().then(() => "ok", (e: unknown) => e));
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    try {
      for (let round = 0; round < 5; round++) {
        // Wait for some requests to be in flight, then kill the sessions under them.
        const seen = outcomes.length;
        await pollUntil("requests are flowing", async () => outcomes.length > seen + 10);
        await terminateServerSessions();
      }
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    const failures = outcomes.filter((o) => o !== "ok");
    for (const f of failures) {
      expect(f).toBeInstanceOf(ConnectError);
      expect((f as ConnectError).code, (f as ConnectError).message).toBe(Code.Unavailable);
    }
    expect(outcomes.filter((o) => o === "ok").length).toBeGreaterThan(failures.length);
    await createProject();
  });

  it("a statement stuck past the statement timeout answers DEADLINE_EXCEEDED, not UNAVAILABLE, and the database serves on", async () => {
    await createProject();
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    try {
      // Holds every statement on projects until the server's statement timeout cancels it.
      await admin.query("begin");
      await admin.query("lock table projects in access exclusive mode");
      const error = await failure(listProjects());
      expect(error.code).toBe(Code.DeadlineExceeded);
      expect(error.rawMessage).toMatch(/statement timeout/);
      await admin.query("rollback");
    } finally {
      await admin.end();
    }
    await listProjects();
  });

  it("while MinIO is down, uploads and downloads answer UNAVAILABLE saying object storage is unreachable; then work again", async () => {
    const data = bytesOf(64 * 1024, 901);
    const name = `ds-${uniqueSuffix()}`;
    const committed = await upload(uploads, "before.bin", data);
    await datasets.createDataset({ name, version: "1", artefacts: [{ uploadId: committed.uploadId, path: "before.bin" }] }, CALL);
    expect((await download(datasets, name, "1", "before.bin")).sha256).toBe(sha256(data));

    await store.stop();
    try {
      const failedUpload = await failure(upload(uploads, "during.bin", bytesOf(64 * 1024, 902)));
      expect(failedUpload.code).toBe(Code.Unavailable);
      expect(failedUpload.rawMessage).toMatch(/^object storage is unreachable/);
      const failedDownload = await failure(download(datasets, name, "1", "before.bin"));
      expect(failedDownload.code).toBe(Code.Unavailable);
      expect(failedDownload.rawMessage).toMatch(/^object storage is unreachable/);
    } finally {
      await store.start();
    }

    const after = bytesOf(64 * 1024, 903);
    const done = await upload(uploads, "after.bin", after);
    await datasets.createDataset({ name, version: "2", artefacts: [{ uploadId: done.uploadId, path: "after.bin" }] }, CALL);
    expect((await download(datasets, name, "2", "after.bin")).sha256).toBe(sha256(after));
    expect((await download(datasets, name, "1", "before.bin")).sha256).toBe(sha256(data));
  });
});
