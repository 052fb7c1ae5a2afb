/**
 * The only reader of the environment. Every setting has a documented default
 * so that `npm start` on a fresh machine runs the embedded configuration:
 * PGlite in a data directory and the local-filesystem object store.
 */
import path from "node:path";

export type DatabaseConfig =
  | { kind: "postgres"; url: string }
  | { kind: "pglite"; dataDir: string };

export type StorageConfig =
  | { kind: "local"; root: string }
  | { kind: "s3"; endpoint: string; accessKey: string; secretKey: string; bucket: string; region: string };

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

export interface Config {
  port: number;
  host: string;
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
  /** Admin key to create on first start instead of a random one. */
  bootstrapApiKey: string | undefined;
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
  return {
    port: int(env, "TRAINTRACK_PORT", 8080, 0, 65535),
    host: env.TRAINTRACK_HOST ?? "0.0.0.0",
    database: env.TRAINTRACK_DB_URL
      ? { kind: "postgres", url: env.TRAINTRACK_DB_URL }
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
    bootstrapApiKey: env.TRAINTRACK_API_KEY || undefined,
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
  };
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
