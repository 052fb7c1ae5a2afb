/**
 * Graceful shutdown, as a process manager drives it: SIGTERM to the server
 * process. Health turns NOT_SERVING, the listener stops accepting, in-flight
 * calls finish within the grace period, streams still open after it end with
 * UNAVAILABLE and give up their uploads so that clients resume at once on
 * another replica, and a second signal exits at once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/health/v1/health_pb.js";
import { UploadService, UploadState } from "../../gen/traintrack/v1/upload_pb.js";
import { type ChildServer, startChildServer } from "../support/child-server.js";
import { bytesOf, sha256, uploadMessages } from "../support/data.js";
import { parsePrometheus, sampleValue } from "../support/prometheus.js";
import { backendEnv, backends, startTestServer, withKey } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

const MiB = 1024 * 1024;
const SEGMENT = 5 * MiB;
const backend = backends().find((b) => b.name === "postgres+minio");

/** A gate a generator waits at until the test opens it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** The messages of an upload of `data` that stop after `before` bytes until `wait` resolves. */
async function* pausedUpload(name: string, data: Uint8Array, before: number, wait: Promise<void>) {
  let sent = 0;
  for await (const message of uploadMessages(name, data, { chunkBytes: MiB })) {
    if (message.payload?.case === "chunk") {
      if (sent >= before) await wait;
      sent += message.payload.value.length;
    }
    yield message;
  }
}

describe.skipIf(!backend?.available)("graceful shutdown on postgres+minio", () => {
  let dir: string;
  let env: Record<string, string>;
  let server: ChildServer | undefined;
  const key = `tt_test_${uniqueSuffix()}${uniqueSuffix()}`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-shutdown-"));
    env = { ...(await backendEnv("postgres+minio", dir)), TRAINTRACK_API_KEY: key, TRAINTRACK_SEGMENT_BYTES: String(SEGMENT) };
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const clientsOf = (s: ChildServer) => {
    const transport = createGrpcTransport({ baseUrl: s.baseUrl });
    return { uploads: createClient(UploadService, withKey(transport, key)), health: createClient(Health, transport) };
  };
  /** Polls /metrics until `n` non-health RPCs are in flight: the server has them. */
  async function inFlight(s: ChildServer, n: number): Promise<void> {
    for (;;) {
      const samples = parsePrometheus(await (await fetch(`${s.baseUrl}/metrics`)).text());
      if ((sampleValue(samples, "traintrack_rpc_in_flight") ?? 0) >= n) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("turns health NOT_SERVING, stops accepting, lets an upload in flight finish, and exits 0 with a JSON log", async () => {
    server = await startChildServer({ ...env, TRAINTRACK_SHUTDOWN_GRACE_SECONDS: "30" });
    const s = server;
    const { uploads, health } = clientsOf(s);
    const watch = health.watch({ service: "" })[Symbol.asyncIterator]();
    expect((await watch.next()).value?.status).toBe(Status.SERVING);
    const data = bytesOf(12 * MiB, 1);
    const rest = gate();
    const uploading = uploads.upload(pausedUpload("inflight.bin", data, 3 * MiB, rest.opened));
    await inFlight(s, 2);

    s.kill("SIGTERM");
    expect((await watch.next()).value?.status).toBe(Status.NOT_SERVING);
    await s.logged((l) => l.msg === "shutting down: draining in-flight calls");
    // A new connection (not one of the client's pooled ones) finds nobody listening.
    const connection = await new Promise<string>((resolve) => {
      const socket = net.connect(s.port, "127.0.0.1", () => {
        socket.destroy();
        resolve("accepted");
      });
      socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
    });
    expect(connection).toBe("ECONNREFUSED");

    rest.open();
    const { upload } = await uploading;
    expect(upload?.state).toBe(UploadState.COMPLETE);
    expect(upload?.sha256).toBe(sha256(data));
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.notJson).toEqual([]);
    expect(s.lines.some((l) => l.msg === "shut down")).toBe(true);
  });

  it("ends an upload still open after the grace period with UNAVAILABLE and releases it, so it resumes at once on another replica", async () => {
    server = await startChildServer({ ...env, TRAINTRACK_SHUTDOWN_GRACE_SECONDS: "1" });
    const s = server;
    const other = await startTestServer("postgres+minio", { reuseEnv: env });
    try {
      const data = bytesOf(12 * MiB, 2);
      const never = gate();
      const uploading = clientsOf(s)
        .uploads.upload(pausedUpload("stalled.bin", data, 11 * MiB, never.opened))
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      // Two segments are durable on the first server.
      const uploadId = await (async () => {
        for (;;) {
          const row = await other.app.db.selectFrom("uploads").select(["id", "bytesReceived"]).where("fileName", "=", "stalled.bin").executeTakeFirst();
          if (row && row.bytesReceived >= 2 * SEGMENT) return row.id;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      s.kill("SIGTERM");
      const error = await uploading;
      expect(error?.code).toBe(Code.Unavailable);
      expect(error?.rawMessage).toContain("shutting down");
      expect(error?.rawMessage).toContain(`resume upload "${uploadId}" at offset ${2 * SEGMENT}`);
      expect(await s.exited).toEqual({ code: 0, signal: null });

      // No waiting for a lease to run out: the first server gave the upload up.
      const offset = (await other.client(UploadService).getUpload({ uploadId })).upload?.bytesReceived ?? 0n;
      expect(offset).toBe(BigInt(2 * SEGMENT));
      const resumed = await resumeOnce(other.client(UploadService), uploadId, offset, data);
      expect(resumed?.state).toBe(UploadState.COMPLETE);
      expect(resumed?.sha256).toBe(sha256(data));
      never.open();
    } finally {
      await other.close();
    }
  });

  it("exits at once on a second signal, however long the grace period", async () => {
    server = await startChildServer({ ...env, TRAINTRACK_SHUTDOWN_GRACE_SECONDS: "3600" });
    const s = server;
    const never = gate();
    const uploading = clientsOf(s)
      .uploads.upload(pausedUpload("held.bin", bytesOf(4 * MiB, 3), MiB, never.opened))
      .catch(() => undefined);

    await inFlight(s, 1);
    s.kill("SIGTERM");
    await s.logged((l) => l.msg === "shutting down: draining in-flight calls");
    s.kill("SIGTERM");
    expect(await s.exited).toEqual({ code: 1, signal: null });
    // Not awaited: connect-node's client may not notice a dead peer while its request stream is paused.
    never.open();
    void uploading;
  });
});

/** One resume attempt: no retry on ABORTED, which would mean the old stream still held the upload. */
async function resumeOnce(uploads: Client<typeof UploadService>, uploadId: string, offset: bigint, data: Uint8Array) {
  async function* messages() {
    yield { payload: { case: "header" as const, value: { start: { case: "resume" as const, value: { uploadId, offset } } } } };
    for (let at = Number(offset); at < data.length; at += MiB) {
      yield { payload: { case: "chunk" as const, value: data.subarray(at, Math.min(at + MiB, data.length)) } };
    }
  }
  return (await uploads.upload(messages())).upload;
}
