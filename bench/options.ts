/**
 * The bench's only reader of flags and environment. Every size has a default
 * matching the targets; smaller values make a quick run while developing:
 *
 *   BENCH_SIZE_MIB=64 npm run bench -- --only=throughput --providers=s3
 */

export const BENCHMARKS = ["throughput", "concurrent", "commit", "many", "resume", "download", "commit-size", "models", "pipelines"] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export const PROVIDERS = ["s3", "local"] as const;
/** s3: PostgreSQL + MinIO; local: embedded PGlite + local files. */
export type ProviderName = (typeof PROVIDERS)[number];

export const providerLabel = (p: ProviderName) => (p === "s3" ? "PostgreSQL + MinIO" : "PGlite + local FS");

export interface BenchOptions {
  only: BenchmarkName[];
  providers: ProviderName[];
  /** Start server children with --cpu-prof and print where their CPU went in each measured phase. */
  cpuProf: boolean;
  /** Extra node flags for every server child (BENCH_SERVER_NODE_ARGS, space-separated), e.g. --trace-gc. */
  serverNodeArgs: string[];
  /** Checkout whose src/main.ts is run as the server (BENCH_SERVER_ROOT): A/B-test a patch against this tree. */
  serverRoot: string | undefined;
  /** 1, 5 and 6: artefact size of the single large upload (5: the bytes staged before the break; 6: the artefact downloaded). */
  sizeMiB: number;
  /** Size of each Upload message, in KiB. */
  chunkKiB: number;
  /** How often the throughput pair (baseline, server) is measured; the best of each is reported. */
  repeat: number;
  /** 2: concurrent uploads and the size of each. */
  concurrentUploads: number;
  concurrentSizeMiB: number;
  /** 3: artefact counts of the CreateDataset runs, and each artefact's size. */
  commitCounts: number[];
  smallFileBytes: number;
  /** 4: how many small files, how many in flight, over how many HTTP/2 connections. */
  manyFiles: number;
  manyConcurrency: number;
  manyConnections: number;
  /** 7: sizes of the large artefacts committed in one version, and how many rounds (each uploads them anew). */
  commitSizesMiB: number[];
  commitRounds: number;
  /** 8: versions registered from run artefacts, files per version, the large files' size, alternated size rounds, searches timed. */
  modelVersions: number;
  modelFiles: number;
  modelLargeKiB: number;
  modelSizeRounds: number;
  modelSearches: number;
  /** Where PostgreSQL and MinIO are (set by test/scripts/with-services.sh). */
  services: ServicesEnv | undefined;
}

export interface ServicesEnv {
  pgUrl: string;
  s3: { endpoint: string; accessKey: string; secretKey: string; region: string };
}

export const HELP = `usage: npm run bench -- [--only=${BENCHMARKS.join(",")}] [--providers=${PROVIDERS.join(",")}] [--cpu-prof]

  throughput  1 GiB through Upload vs minio putObject / fs.createWriteStream, with server RSS
              (BENCH_SIZE_MIB sets the size)
  concurrent  16 concurrent 256 MiB uploads: server RSS growth
              (BENCH_CONCURRENT_UPLOADS, BENCH_CONCURRENT_SIZE_MIB)
  commit      CreateDataset with 1, 100 and 1,000 staged artefacts (BENCH_COMMIT_COUNTS)
  many        10,000 files of 4 KiB uploaded with bounded concurrency, then one CreateDataset, vs the same
              count put straight into storage at the same concurrency (BENCH_MANY_FILES, BENCH_MANY_CONCURRENCY)
  resume      1 GiB staged, the stream broken, then resumed with 1 MiB left: time and bytes the server reads
              (BENCH_SIZE_MIB sets the staged size)
  download    1 GiB committed, then read through DownloadArtefact vs minio getObject / fs.createReadStream
              (BENCH_SIZE_MIB sets the size)
  commit-size CreateDataset of one version holding a 1 GiB and an 8 GiB artefact (uploaded first, not timed)
              vs one holding a 4 KiB artefact, several rounds; needs the artefacts' size free on disk per round
              (BENCH_COMMIT_SIZES_MIB, BENCH_COMMIT_ROUNDS)
  models      1,000 CreateModelVersion of 100 files each from run artefacts; registration of 100 × 1 MiB files vs
              100 × 4 KiB alternated (ratio ~1: no byte copied); SearchModelVersions over the 1,000 versions with a
              metric condition, median and p95 (BENCH_MODEL_VERSIONS, BENCH_MODEL_FILES, BENCH_MODEL_LARGE_KIB,
              BENCH_MODEL_SIZE_ROUNDS, BENCH_MODEL_SEARCHES)
  pipelines   a pipeline run of 5,000 steps in 20 layers (10,000 edges), then GetPipelineGraph collapsed and expanded,
              and a 3-hop GetLineageGraph from a model of it

Each benchmark runs alone with --only, at the size its variable sets, e.g.
  BENCH_COMMIT_SIZES_MIB=64,256 npm run bench -- --only=commit-size --providers=s3
  BENCH_MANY_FILES=500 npm run bench -- --only=many --providers=s3

environment (defaults in brackets):
  BENCH_SIZE_MIB [1024]            BENCH_CHUNK_KIB [1024]         BENCH_REPEAT [1]
  BENCH_CONCURRENT_UPLOADS [16]    BENCH_CONCURRENT_SIZE_MIB [256]
  BENCH_COMMIT_COUNTS [1,100,1000] BENCH_SMALL_FILE_BYTES [4096]
  BENCH_MANY_FILES [10000]         BENCH_MANY_CONCURRENCY [48]    BENCH_MANY_CONNECTIONS [1]
  BENCH_COMMIT_SIZES_MIB [1024,8192]                              BENCH_COMMIT_ROUNDS [3]
  BENCH_MODEL_VERSIONS [1000]      BENCH_MODEL_FILES [100]        BENCH_MODEL_LARGE_KIB [1024]
  BENCH_MODEL_SIZE_ROUNDS [100]    BENCH_MODEL_SEARCHES [50]
  BENCH_SERVER_NODE_ARGS           extra node flags for the server children, e.g. "--trace-gc"
  BENCH_SERVER_ROOT [this tree]    run src/main.ts of another checkout (to measure a patch)

The Python SDK's figures have scripts of their own (bench/python/README.md), each taking --size-mib and --rounds:
  npm run bench:python             datasets.save of 1 GiB vs minio-py fput_object; the SDK's download
  npm run bench:artefacts          run.log_artefact of 1 GiB vs MLflow log_artifact (mlflow server --serve-artifacts)
  npm run bench:metrics            1,000,000 metric points vs MLflow log_batch (--points)
`;

export class UsageError extends Error {
  override name = "UsageError";
}

type Env = Record<string, string | undefined>;

/** Parses argv (without node and script) and the environment; UsageError names what to fix. */
export function parseOptions(argv: string[], env: Env): BenchOptions {
  let only: BenchmarkName[] = [...BENCHMARKS];
  let providers: ProviderName[] = [...PROVIDERS];
  let cpuProf = false;
  for (const arg of argv) {
    const [flag, value = ""] = arg.split("=", 2) as [string, string?];
    if (flag === "--only") only = list(value, BENCHMARKS, "--only");
    else if (flag === "--providers") providers = list(value, PROVIDERS, "--providers");
    else if (flag === "--cpu-prof") cpuProf = true;
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  const pgUrl = env.TRAINTRACK_TEST_PG_URL;
  const endpoint = env.TRAINTRACK_TEST_S3_ENDPOINT;
  const accessKey = env.TRAINTRACK_TEST_S3_ACCESS_KEY;
  const secretKey = env.TRAINTRACK_TEST_S3_SECRET_KEY;
  return {
    only,
    providers,
    cpuProf,
    serverNodeArgs: (env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((a) => a !== ""),
    serverRoot: env.BENCH_SERVER_ROOT || undefined,
    sizeMiB: int(env, "BENCH_SIZE_MIB", 1024),
    chunkKiB: int(env, "BENCH_CHUNK_KIB", 1024),
    repeat: int(env, "BENCH_REPEAT", 1),
    concurrentUploads: int(env, "BENCH_CONCURRENT_UPLOADS", 16),
    concurrentSizeMiB: int(env, "BENCH_CONCURRENT_SIZE_MIB", 256),
    commitCounts: (env.BENCH_COMMIT_COUNTS ?? "1,100,1000").split(",").map((s) => positive("BENCH_COMMIT_COUNTS", s)),
    smallFileBytes: int(env, "BENCH_SMALL_FILE_BYTES", 4096),
    manyFiles: int(env, "BENCH_MANY_FILES", 10_000),
    manyConcurrency: int(env, "BENCH_MANY_CONCURRENCY", 48),
    manyConnections: int(env, "BENCH_MANY_CONNECTIONS", 1),
    commitSizesMiB: (env.BENCH_COMMIT_SIZES_MIB || "1024,8192").split(",").map((s) => positive("BENCH_COMMIT_SIZES_MIB", s)),
    commitRounds: int(env, "BENCH_COMMIT_ROUNDS", 3),
    modelVersions: int(env, "BENCH_MODEL_VERSIONS", 1000),
    modelFiles: int(env, "BENCH_MODEL_FILES", 100),
    modelLargeKiB: int(env, "BENCH_MODEL_LARGE_KIB", 1024),
    modelSizeRounds: int(env, "BENCH_MODEL_SIZE_ROUNDS", 100),
    modelSearches: int(env, "BENCH_MODEL_SEARCHES", 50),
    services:
      pgUrl && endpoint && accessKey && secretKey
        ? { pgUrl, s3: { endpoint, accessKey, secretKey, region: env.TRAINTRACK_TEST_S3_REGION ?? "us-east-1" } }
        : undefined,
  };
}

function list<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(",").filter((s) => s !== "");
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new UsageError(`${flag}: ${JSON.stringify(item)} is not one of ${allowed.join(", ")}`);
  }
  if (items.length === 0) throw new UsageError(`${flag} needs at least one of ${allowed.join(", ")}`);
  return items as T[];
}

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  return raw === undefined || raw === "" ? fallback : positive(name, raw);
}

function positive(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return value;
}

/** Ports of the services, to find their processes for CPU accounting. */
export function servicePorts(services: ServicesEnv | undefined): { postgres?: number; minio?: number } {
  if (!services) return {};
  return { postgres: Number(new URL(services.pgUrl).port), minio: Number(new URL(services.s3.endpoint).port) };
}
