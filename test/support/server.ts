/**
 * Starts a real Traintrack server in-process on port 0 against one backend
 * (embedded PGlite + local files, or PostgreSQL + MinIO) and builds clients
 * for it over every protocol the port serves.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { type App, type AppOverrides, createApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/ops/logger.js";
import { postgresService, s3Service, uniqueSuffix } from "./services.js";

export type BackendName = "embedded" | "postgres+minio";

export interface Backend {
  name: BackendName;
  /** False when the real services are absent on a developer machine (never under CI=true). */
  available: boolean;
}

/** Both backends; suites run `describe.each(backends)` and skip an unavailable one. */
export function backends(): Backend[] {
  return [
    { name: "embedded", available: true },
    { name: "postgres+minio", available: postgresService() !== undefined && s3Service() !== undefined },
  ];
}

export interface TestServer {
  app: App;
  config: Config;
  baseUrl: string;
  /** The first organisation's admin key. */
  apiKey: string;
  transports: Record<"connectH1" | "connectH2" | "grpc" | "grpcWeb", Transport>;
  /** A client over `transport` (default: gRPC) authenticated with `apiKey`. */
  client<S extends DescService>(service: S, transport?: keyof TestServer["transports"], apiKey?: string): Client<S>;
  /** A second organisation, for isolation tests. */
  newOrganization(name?: string): Promise<string>;
  close(): Promise<void>;
}

/** Environment for a server on `backend`: a fresh database and a fresh bucket or directory. */
export async function backendEnv(backend: BackendName, dir: string): Promise<Record<string, string>> {
  const base = { TRAINTRACK_PORT: "0", TRAINTRACK_HOST: "127.0.0.1", TRAINTRACK_DATA_DIR: dir, TRAINTRACK_JANITOR_INTERVAL_SECONDS: "0", TRAINTRACK_SHUTDOWN_GRACE_SECONDS: "1" };
  if (backend === "embedded") return base;
  const postgres = postgresService();
  const s3 = s3Service();
  if (!postgres || !s3) throw new Error("PostgreSQL and MinIO are not running: run the tests through 'npm test'");
  const database = `tt_${uniqueSuffix()}`;
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgres.adminUrl);
  url.pathname = `/${database}`;
  return {
    ...base,
    TRAINTRACK_DB_URL: url.toString(),
    TRAINTRACK_STORAGE: "s3",
    TRAINTRACK_S3_ENDPOINT: s3.endpoint,
    TRAINTRACK_S3_ACCESS_KEY: s3.accessKey,
    TRAINTRACK_S3_SECRET_KEY: s3.secretKey,
    TRAINTRACK_S3_REGION: s3.region,
    TRAINTRACK_S3_BUCKET: `tt-${uniqueSuffix()}`,
  };
}

/** A transport that sends `authorization: Bearer <key>` on every call. */
export function withKey(transport: Transport, key: string): Transport {
  const authed = (header: ConstructorParameters<typeof Headers>[0]) => {
    const headers = new Headers(header);
    headers.set("authorization", `Bearer ${key}`);
    return headers;
  };
  return {
    unary: (method, signal, timeoutMs, header, input, values) => transport.unary(method, signal, timeoutMs, authed(header), input, values),
    stream: (method, signal, timeoutMs, header, input, values) => transport.stream(method, signal, timeoutMs, authed(header), input, values),
  };
}

export interface StartOptions {
  /** Extra environment, e.g. smaller limits. */
  env?: Record<string, string>;
  overrides?: AppOverrides;
  /** Reuse a data directory / database (to restart over the same state). */
  reuseEnv?: Record<string, string>;
}

export async function startTestServer(backend: BackendName, opts: StartOptions = {}): Promise<TestServer & { env: Record<string, string> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-test-"));
  // A restart over the same state (reuseEnv) keeps the first start's admin key.
  const env: Record<string, string> = {
    TRAINTRACK_API_KEY: `tt_test_${uniqueSuffix()}${uniqueSuffix()}`,
    ...(opts.reuseEnv ?? (await backendEnv(backend, dir))),
    ...opts.env,
  };
  const apiKey = env.TRAINTRACK_API_KEY as string;
  const config = loadConfig(env);
  const app = await createApp(config, { logger: createLogger((process.env.TT_TEST_LOG as "info") ?? "silent"), ...opts.overrides });
  const baseUrl = `http://127.0.0.1:${app.port}`;
  const transports = {
    connectH1: createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    connectH2: createConnectTransport({ baseUrl, httpVersion: "2" }),
    grpc: createGrpcTransport({ baseUrl }),
    grpcWeb: createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
  };
  return {
    app,
    config,
    env,
    baseUrl,
    apiKey,
    transports,
    client(service, transport = "grpc", key = apiKey) {
      return createClient(service, withKey(transports[transport], key));
    },
    async newOrganization(name = "other") {
      return (await app.organizations.create({ name: `${name}-${uniqueSuffix()}`, ownerUserName: "admin", ownerEmail: "" })).ownerKeySecret;
    },
    async close() {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
