/**
 * The only reader of the environment. Every setting has a documented default
 * so that `npm start` on a fresh machine runs the embedded configuration:
 * PGlite in a data directory and the local-filesystem object store.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export type DatabaseConfig =
  | { kind: "postgres"; url: string; pool: PostgresPoolConfig }
  | { kind: "pglite"; dataDir: string };

/** How the server holds its PostgreSQL connections, and how long it waits on them. */
export interface PostgresPoolConfig {
  /** Most connections open at once; requests beyond it wait for one (up to connectTimeoutMs). */
  size: number;
  /** A connection not opened (or not freed by another request) within this fails the request as UNAVAILABLE. */
  connectTimeoutMs: number;
  /** The server cancels a statement running longer (0: never). */
  statementTimeoutMs: number;
  /** The server ends a session idle inside a transaction this long (0: never). */
  idleInTransactionTimeoutMs: number;
}

export type StorageConfig =
  | { kind: "local"; root: string }
  | {
      kind: "s3";
      endpoint: string;
      accessKey: string;
      secretKey: string;
      bucket: string;
      region: string;
      /** A request whose connection stays silent this long fails (UNAVAILABLE), instead of hanging. */
      requestTimeoutMs: number;
    };

export interface Limits {
  /** Largest chunk an Upload message may carry. */
  maxChunkBytes: number;
  /** Largest artefact an upload may stage. */
  maxArtefactBytes: number;
  /** Largest request message of any RPC (Connect's readMaxBytes). */
  maxRequestBytes: number;
  /** Most artefacts one dataset version may hold. */
  maxArtefactsPerVersion: number;
}

/** What one connection may hold, and how long it may stay silent. */
export interface ConnectionLimits {
  /** Most connections open at once; further ones are refused. */
  maxConnections: number;
  /** Most concurrent streams (RPCs) one HTTP/2 connection may open. */
  maxStreamsPerConnection: number;
  /** A new connection must send its first bytes, and an HTTP/1.1 request its headers, within this. */
  headersTimeoutMs: number;
  /** A connection with no traffic in either direction for this long is closed. */
  idleTimeoutMs: number;
  /** Largest response message of any RPC (Connect's writeMaxBytes). */
  maxResponseBytes: number;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface OpsConfig {
  logLevel: LogLevel;
  /** In-flight RPCs get this long to finish after SIGTERM; streams still open then end with UNAVAILABLE. */
  shutdownGraceMs: number;
  /** When set, GET /metrics requires `authorization: Bearer <token>`; unset, it is open like health. */
  metricsToken: string | undefined;
}

export interface Config {
  port: number;
  host: string;
  connections: ConnectionLimits;
  ops: OpsConfig;
  database: DatabaseConfig;
  storage: StorageConfig;
  limits: Limits;
  /** Staged bytes are made durable (and resumable) in segments of this size. */
  segmentBytes: number;
  /** Staged bytes all uploads together may hold in memory on their way to storage. */
  uploadMemoryBytes: number;
  /** An uncommitted upload is discarded this long after it was last written. */
  uploadTtlSeconds: number;
  /** An Upload stream that delivers no message for this long ends with DEADLINE_EXCEEDED. */
  uploadIdleTimeoutSeconds: number;
  /** How long a stream's claim on an upload outlives its last renewal (renewed while the stream lives). */
  uploadWriterLeaseSeconds: number;
  /** How often the janitor reclaims expired uploads and unreferenced objects. */
  janitorIntervalSeconds: number;
  /** How long one janitor pass may work before it leaves the rest of its backlog to the next. */
  janitorBudgetSeconds: number;
  /** A blob deletion claimed by a pass this long ago is taken over: that pass died. Exceeds the budget. */
  janitorClaimTakeoverSeconds: number;
  /** Staged objects younger than this are never reclaimed: a stream may still be writing them. */
  stagingGraceSeconds: number;
  /** Admin key to create on first start instead of a random one. */
  bootstrapApiKey: string | undefined;
  access: AccessConfig;
  /** The web UI's Vite build, served at `/`. */
  uiDir: string;
}

export interface AccessConfig {
  /** TRAINTRACK_ADMIN_KEY: an instance administrator's key that belongs to no organisation. */
  adminKey: string | undefined;
  /** How long a checked key is trusted without asking the database, while change notifications are heard. */
  cacheMs: number;
  /** Failed authentications a source address may make at once, then one per `authFailureRefillMs`. */
  authFailureBurst: number;
  authFailureRefillMs: number;
  session: SessionConfig;
}

/** The web UI's sign-in sessions. */
export interface SessionConfig {
  /** A session unused this long ends; each use moves it on. */
  idleMs: number;
  /** A session ends this long after sign-in, used or not. */
  maxMs: number;
  /** The session cookie is marked Secure (sent over HTTPS only): set it when the UI is reached over TLS. */
  secureCookie: boolean;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const MiB = 1024 * 1024;

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration; throws ConfigError naming the variable to fix. */
export function loadConfig(env: Env = process.env): Config {
  const dataDir = path.resolve(env.TRAINTRACK_DATA_DIR ?? ".traintrack");
  const segmentBytes = int(env, "TRAINTRACK_SEGMENT_BYTES", 8 * MiB, 5 * MiB, 1024 * MiB);
  const maxChunkBytes = int(env, "TRAINTRACK_MAX_CHUNK_BYTES", 4 * MiB, 1024, 64 * MiB);
  const janitorBudgetSeconds = int(env, "TRAINTRACK_JANITOR_BUDGET_SECONDS", 60, 1, 3600);
  return {
    port: int(env, "TRAINTRACK_PORT", 8080, 0, 65535),
    host: env.TRAINTRACK_HOST ?? "0.0.0.0",
    connections: {
      maxConnections: int(env, "TRAINTRACK_MAX_CONNECTIONS", 10_000, 1, 1_000_000),
      maxStreamsPerConnection: int(env, "TRAINTRACK_MAX_STREAMS_PER_CONNECTION", 100, 1, 10_000),
      headersTimeoutMs: int(env, "TRAINTRACK_HEADERS_TIMEOUT_SECONDS", 30, 1, 3600) * 1000,
      idleTimeoutMs: int(env, "TRAINTRACK_CONNECTION_IDLE_TIMEOUT_SECONDS", 300, 1, 24 * 3600) * 1000,
      maxResponseBytes: int(env, "TRAINTRACK_MAX_RESPONSE_BYTES", 64 * MiB, 1 * MiB, 1024 * MiB),
    },
    ops: {
      logLevel: oneOf(env, "TRAINTRACK_LOG_LEVEL", "info", LOG_LEVELS),
      shutdownGraceMs: int(env, "TRAINTRACK_SHUTDOWN_GRACE_SECONDS", 30, 0, 3600) * 1000,
      metricsToken: env.TRAINTRACK_METRICS_TOKEN || undefined,
    },
    database: env.TRAINTRACK_DB_URL
      ? { kind: "postgres", url: env.TRAINTRACK_DB_URL, pool: postgresPoolConfig(env) }
      : { kind: "pglite", dataDir: path.join(dataDir, "db") },
    storage: storageConfig(env, dataDir),
    limits: {
      maxChunkBytes,
      // S3 composes at most 10,000 parts, one per segment.
      maxArtefactBytes: int(env, "TRAINTRACK_MAX_ARTEFACT_BYTES", Math.min(1024 * 1024 * MiB, segmentBytes * 10_000), 1, segmentBytes * 10_000),
      maxRequestBytes: int(env, "TRAINTRACK_MAX_REQUEST_BYTES", 16 * MiB, 64 * 1024, 256 * MiB),
      maxArtefactsPerVersion: int(env, "TRAINTRACK_MAX_ARTEFACTS_PER_VERSION", 100_000, 1, 1_000_000),
    },
    segmentBytes,
    uploadMemoryBytes: int(env, "TRAINTRACK_UPLOAD_MEMORY_BYTES", 64 * MiB, segmentBytes, 64 * 1024 * MiB),
    uploadTtlSeconds: int(env, "TRAINTRACK_UPLOAD_TTL_SECONDS", 24 * 3600, 1, 365 * 24 * 3600),
    uploadIdleTimeoutSeconds: int(env, "TRAINTRACK_UPLOAD_IDLE_TIMEOUT_SECONDS", 60, 1, 24 * 3600),
    uploadWriterLeaseSeconds: int(env, "TRAINTRACK_UPLOAD_WRITER_LEASE_SECONDS", 30, 3, 3600),
    janitorIntervalSeconds: int(env, "TRAINTRACK_JANITOR_INTERVAL_SECONDS", 300, 0, 24 * 3600),
    janitorBudgetSeconds,
    // A live pass must never look dead: its claims must outlast its budget by a wide margin.
    janitorClaimTakeoverSeconds: int(env, "TRAINTRACK_JANITOR_CLAIM_TAKEOVER_SECONDS", Math.max(900, 2 * janitorBudgetSeconds), 2 * janitorBudgetSeconds, 7 * 24 * 3600),
    stagingGraceSeconds: int(env, "TRAINTRACK_STAGING_GRACE_SECONDS", 60, 0, 24 * 3600),
    bootstrapApiKey: env.TRAINTRACK_API_KEY || undefined,
    uiDir: path.resolve(env.TRAINTRACK_UI_DIR || path.join(repositoryRoot(), "dist", "ui")),
    access: {
      adminKey: adminKey(env),
      cacheMs: int(env, "TRAINTRACK_AUTH_CACHE_MS", 5000, 0, 60_000),
      authFailureBurst: int(env, "TRAINTRACK_AUTH_FAILURE_BURST", 20, 1, 1_000_000),
      authFailureRefillMs: int(env, "TRAINTRACK_AUTH_FAILURE_REFILL_MS", 3000, 1, 3600_000),
      session: {
        idleMs: int(env, "TRAINTRACK_SESSION_IDLE_MS", 12 * 3600_000, 60_000, 365 * 24 * 3600_000),
        maxMs: int(env, "TRAINTRACK_SESSION_MAX_MS", 7 * 24 * 3600_000, 60_000, 365 * 24 * 3600_000),
        secureCookie: bool(env, "TRAINTRACK_SESSION_SECURE_COOKIE", false),
      },
    },
  };
}

/**
 * The repository the server runs from: the nearest directory above this
 * module with a package.json (src/ under tsx, dist/src/ when built), so that
 * the UI is found whatever the working directory.
 */
function repositoryRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return path.dirname(here);
  }
}

/** A guessable admin key would be the whole instance's weakest point. */
function adminKey(env: Env): string | undefined {
  const key = env.TRAINTRACK_ADMIN_KEY;
  if (!key) return undefined;
  if (key.length < 32) throw new ConfigError("TRAINTRACK_ADMIN_KEY must be at least 32 characters: generate one, e.g. with `openssl rand -base64 32`");
  return key;
}

function postgresPoolConfig(env: Env): PostgresPoolConfig {
  return {
    size: int(env, "TRAINTRACK_DB_POOL_SIZE", 20, 1, 1000),
    connectTimeoutMs: int(env, "TRAINTRACK_DB_CONNECT_TIMEOUT_MS", 5000, 100, 600_000),
    statementTimeoutMs: int(env, "TRAINTRACK_DB_STATEMENT_TIMEOUT_MS", 30_000, 0, 24 * 3600_000),
    idleInTransactionTimeoutMs: int(env, "TRAINTRACK_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000, 0, 24 * 3600_000),
  };
}

function storageConfig(env: Env, dataDir: string): StorageConfig {
  const kind = env.TRAINTRACK_STORAGE ?? (env.TRAINTRACK_S3_ENDPOINT ? "s3" : "local");
  if (kind === "local") {
    return { kind, root: path.resolve(env.TRAINTRACK_STORAGE_DIR ?? path.join(dataDir, "objects")) };
  }
  if (kind !== "s3") {
    throw new ConfigError(`TRAINTRACK_STORAGE must be "local" or "s3", not ${JSON.stringify(kind)}`);
  }
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`${name} is required when TRAINTRACK_STORAGE=s3`);
    return value;
  };
  return {
    kind,
    endpoint: need("TRAINTRACK_S3_ENDPOINT"),
    accessKey: need("TRAINTRACK_S3_ACCESS_KEY"),
    secretKey: need("TRAINTRACK_S3_SECRET_KEY"),
    bucket: env.TRAINTRACK_S3_BUCKET ?? "traintrack",
    region: env.TRAINTRACK_S3_REGION ?? "us-east-1",
    requestTimeoutMs: int(env, "TRAINTRACK_S3_REQUEST_TIMEOUT_MS", 60_000, 100, 3600_000),
  };
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const satisfies readonly LogLevel[];

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = allowed.find((a) => a === raw.toLowerCase());
  if (value === undefined) throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, not ${JSON.stringify(raw)}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(`${name} must be true or false, not ${JSON.stringify(raw)}`);
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return value;
}
