/**
 * What an operator sees: one JSON log line per RPC (and nothing else but JSON),
 * and Prometheus metrics at GET /metrics on the same port.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { createLogger } from "../../src/ops/logger.js";
import { bytesOf, upload, uploadMessages } from "../support/data.js";
import { parsePrometheus, sampleValue } from "../support/prometheus.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";

const MiB = 1024 * 1024;

interface LogLine {
  level: string;
  msg: string;
  rpc?: string;
  code?: string;
  durationMs?: number;
  bytesIn?: number;
  bytesOut?: number;
  requestId?: string;
  org?: string;
  keyId?: string;
  error?: string;
  err?: { message: string; stack?: string };
}

describe.each(backends())("operations on $name", (backend) => {
  let server: TestServer;
  const raw: string[] = [];
  let failNextCommit = false;
  const lines = () => raw.map((l) => JSON.parse(l) as LogLine);
  const rpcLines = (rpc: string) => lines().filter((l) => l.msg === "rpc" && l.rpc === `traintrack.v1.${rpc}`);
  /** Log lines are written when a response is closed, which may be just after the client saw it. */
  async function rpcLine(rpc: string, match: (l: LogLine) => boolean): Promise<LogLine> {
    for (;;) {
      const line = rpcLines(rpc).find(match);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const scrape = async (headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.baseUrl}/metrics`, { headers });
    return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
  };

  beforeAll(async () => {
    if (!backend.available) return;
    server = await startTestServer(backend.name, {
      env: { TRAINTRACK_METRICS_TOKEN: "" },
      overrides: {
        logger: createLogger("debug", { write: (line: string) => void raw.push(line) }),
        onCommitStep: (step) => {
          if (step === "planned" && failNextCommit) {
            failNextCommit = false;
            throw new TypeError("a bug in the commit");
          }
        },
      },
    });
  });
  afterAll(async () => server?.close());

  it.skipIf(!backend.available)("writes one JSON line per RPC with its method, code, duration, bytes, caller and request id", async () => {
    const data = bytesOf(3 * MiB, 1);
    const uploaded = await upload(server.client(UploadService), "log.bin", data);
    await server.client(DatasetService, "connectH1").listDatasets({});

    const uploadLine = await rpcLine("UploadService/Upload", () => true);
    expect(uploadLine).toMatchObject({ level: "info", code: "ok" });
    expect(uploadLine.bytesIn).toBeGreaterThan(data.length);
    expect(uploadLine.bytesOut).toBeGreaterThan(0);
    expect(uploadLine.durationMs).toBeGreaterThan(0);
    expect(uploadLine.org).toMatch(/^org_/);
    expect(uploadLine.keyId).toMatch(/^key_/);
    expect(uploadLine.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(uploaded.uploadId).toMatch(/^up_/);
    expect(await rpcLine("DatasetService/ListDatasets", () => true)).toMatchObject({ code: "ok", level: "info" });
    // Every line, not just RPC lines, is one JSON object.
    for (const line of raw) expect(() => JSON.parse(line)).not.toThrow();
  });

  it.skipIf(!backend.available)("logs the stack of an INTERNAL error under the request id the client was told, and no stack otherwise", async () => {
    const datasets = server.client(DatasetService);
    const staged = await upload(server.client(UploadService), "internal.bin", bytesOf(100, 2));
    failNextCommit = true;
    const internal = ConnectError.from(
      await datasets.createDataset({ name: "internal", version: "1", artefacts: [{ uploadId: staged.uploadId }] }).catch((e: unknown) => e),
    );
    expect(internal.code).toBe(Code.Internal);
    expect(internal.rawMessage).not.toContain("a bug in the commit");
    const requestId = /request id ([0-9a-f-]{36})/.exec(internal.rawMessage)?.[1];
    expect(requestId).toBeDefined();
    const line = await rpcLine("DatasetService/CreateDataset", (l) => l.requestId === requestId);
    expect(line).toMatchObject({ level: "error", code: "internal" });
    expect(line.err?.message).toBe("a bug in the commit");
    expect(line.err?.stack).toContain("TypeError: a bug in the commit");

    const notFound = ConnectError.from(await datasets.getDataset({ name: "nope" }).catch((e: unknown) => e));
    expect(notFound.code).toBe(Code.NotFound);
    const refused = await rpcLine("DatasetService/GetDataset", (l) => l.code === "not_found");
    expect(refused).toMatchObject({ level: "info" });
    expect(refused.error).toContain("nope");
    expect(refused.err).toBeUndefined();
  });

  it.skipIf(!backend.available)("logs a client that went away as canceled, not as a server error", async () => {
    const abort = new AbortController();
    // An upload the client abandons half-way, as a killed training job would.
    async function* messages() {
      for await (const message of uploadMessages("abandoned.bin", bytesOf(4 * MiB, 4))) {
        yield message;
        if (message.payload?.case === "chunk") break;
      }
      abort.abort();
    }
    await server.client(UploadService).upload(messages(), { signal: abort.signal }).catch(() => undefined);
    const line = await rpcLine("UploadService/Upload", (l) => l.code !== "ok");
    expect(line.code).toBe("canceled");
    expect(line.level).toBe("info");
    expect(line.err?.stack).toBeUndefined();
  });

  it.skipIf(!backend.available)("serves Prometheus metrics: RPCs by method and code with latencies, bytes, uploads, janitor passes", async () => {
    const before = parsePrometheus((await scrape()).text);
    const method = "traintrack.v1.UploadService/Upload";
    const count = (samples: typeof before) => sampleValue(samples, "traintrack_rpc_duration_seconds_count", { method, code: "ok" }) ?? 0;
    await upload(server.client(UploadService), "metrics.bin", bytesOf(2 * MiB, 3));
    await server.app.janitor.runOnce();
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.type).toContain("text/plain");
    const after = parsePrometheus(res.text);
    expect(count(after) - count(before)).toBe(1);
    const bytes = (s: typeof before) => sampleValue(s, "traintrack_rpc_received_bytes_total", { method }) ?? 0;
    expect(bytes(after) - bytes(before)).toBeGreaterThan(2 * MiB);
    expect(sampleValue(after, "traintrack_rpc_duration_seconds_bucket", { method, code: "ok", le: "+Inf" })).toBe(count(after));
    const uploaded = (s: typeof before) => sampleValue(s, "traintrack_upload_received_bytes_total") ?? 0;
    expect(uploaded(after) - uploaded(before)).toBe(2 * MiB);
    const passes = (s: typeof before) => sampleValue(s, "traintrack_janitor_passes_total", { outcome: "completed" }) ?? 0;
    expect(passes(after) - passes(before)).toBe(1);
    expect(sampleValue(after, "traintrack_upload_budget_capacity_bytes")).toBe(server.config.uploadMemoryBytes);
    expect(sampleValue(after, "traintrack_rpc_in_flight")).toBe(0);
    expect(sampleValue(after, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});

describe("metrics behind a token", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded", { env: { TRAINTRACK_METRICS_TOKEN: "scrape-secret" } });
  });
  afterAll(async () => server?.close());

  it("refuses a scrape without the token and serves one with it", async () => {
    const without = await fetch(`${server.baseUrl}/metrics`);
    expect(without.status).toBe(401);
    expect(await without.text()).toContain("TRAINTRACK_METRICS_TOKEN");
    const withToken = await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: "Bearer scrape-secret" } });
    expect(withToken.status).toBe(200);
    expect(parsePrometheus(await withToken.text()).length).toBeGreaterThan(0);
  });
});
