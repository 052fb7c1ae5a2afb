/**
 * The composition root: config → database → object store → services → server.
 * main.ts runs it with the environment's config; tests run it in-process with
 * overrides (a clock, a failure-injecting store, a commit step hook).
 */
import { performance } from "node:perf_hooks";
import type { Kysely } from "kysely";
import type { Config, StorageConfig } from "./config.js";
import { createDb } from "./db/create-db.js";
import type { Database } from "./db/schema.js";
import { type AuthService, createAuthService } from "./services/auth.js";
import { createDatasetService } from "./services/datasets.js";
import { createExperimentService } from "./services/experiments.js";
import { createJanitor, type JanitorReport } from "./services/janitor.js";
import { createMetricsService } from "./services/metrics.js";
import { createRunArtefactService } from "./services/run-artefacts.js";
import { createRunService } from "./services/runs.js";
import { type CommitStep, createUploadCommitter } from "./services/upload-commit.js";
import { createUploadService } from "./services/uploads.js";
import { errorField, type Logger, createLogger } from "./ops/logger.js";
import { createMetrics, type Metrics } from "./ops/metrics.js";
import { schedule } from "./ops/schedule.js";
import { UnavailableError } from "./services/errors.js";
import { createLocalFsStore } from "./storage/local-fs.js";
import type { ObjectStore } from "./storage/object-store.js";
import { createS3Store } from "./storage/s3.js";
import { createHealth } from "./wire/health.js";
import { authInterceptor } from "./wire/interceptors/auth.js";
import { drainInterceptor } from "./wire/interceptors/drain.js";
import { errorInterceptor } from "./wire/interceptors/errors.js";
import { observeInterceptor } from "./wire/interceptors/observe.js";
import { createNodeHandler } from "./wire/node-handler.js";
import { routes, servedServices } from "./wire/routes.js";
import { startServer } from "./wire/server.js";

export interface AppOverrides {
  db?: Kysely<Database>;
  store?: ObjectStore;
  now?: () => Date;
  onCommitStep?: (step: CommitStep) => void | Promise<void>;
  /** Where log lines go (default: JSON on stdout at the configured level). */
  logger?: Logger;
}

export interface App {
  port: number;
  db: Kysely<Database>;
  store: ObjectStore;
  auth: AuthService;
  /** The janitor; its passes are logged and counted in the metrics. */
  janitor: Pick<ReturnType<typeof createJanitor>, "runOnce">;
  logger: Logger;
  metrics: Metrics;
  /** The admin key created on first start, if this start created one. */
  bootstrapKey: string | undefined;
  /**
   * Graceful shutdown: health turns NOT_SERVING, the listener stops accepting,
   * in-flight RPCs get the configured grace to finish, streams still open then
   * end with UNAVAILABLE (uploads release their writer leases, so that clients
   * resume elsewhere at once), the janitor's pass is awaited, and the database
   * closes last.
   */
  close(): Promise<void>;
}

/** As documented on LogRunArtefactsRequest. */
const MAX_RUN_ARTEFACTS_PER_CALL = 1000;

export async function createStore(config: StorageConfig): Promise<ObjectStore> {
  return config.kind === "local" ? createLocalFsStore({ root: config.root }) : createS3Store(config);
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.ops.logLevel);
  const log = (message: string, error?: unknown) => logger.warn({ err: errorField(error, true) }, message);
  const metrics = createMetrics();
  const now = overrides.now ?? (() => new Date());
  const { db, poolStats } = overrides.db ? { db: overrides.db, poolStats: undefined } : await createDb(config.database, { log });
  const store = overrides.store ?? (await createStore(config.storage));

  const auth = createAuthService({ db, now });
  const uploads = createUploadService({
    db,
    store,
    now,
    segmentBytes: config.segmentBytes,
    inFlightBytes: config.uploadMemoryBytes,
    maxArtefactBytes: config.limits.maxArtefactBytes,
    uploadTtlSeconds: config.uploadTtlSeconds,
  });
  // Dataset versions and runs commit their uploads by one protocol.
  const committer = createUploadCommitter({ db, store, now, onStep: overrides.onCommitStep, log });
  const datasets = createDatasetService({ db, store, now, committer, maxArtefactsPerVersion: config.limits.maxArtefactsPerVersion });
  const experiments = createExperimentService({ db });
  const runs = createRunService({ db, experiments, now });
  const runArtefacts = createRunArtefactService({ db, store, committer, maxArtefactsPerCall: MAX_RUN_ARTEFACTS_PER_CALL });
  const metricsService = createMetricsService({ db, now });
  const janitor = createJanitor({ db, store, uploads });
  const health = createHealth(servedServices.map((s) => s.typeName));

  const created = await auth.bootstrap(config.bootstrapApiKey);
  // Aborted when shutdown's grace period is over: streams still open end with UNAVAILABLE.
  const drain = new AbortController();
  const handler = createNodeHandler({
    routes: routes({ uploads, datasets, experiments, runs, runArtefacts, metrics: metricsService,
      health,
      maxChunkBytes: config.limits.maxChunkBytes,
      countUploadBytes: (bytes) => metrics.uploadBytes.inc(bytes),
    }),
    // Outermost first: observe sees the codes the error interceptor chose; auth runs last, next to the handler.
    interceptors: [observeInterceptor(), errorInterceptor(), drainInterceptor(drain.signal), authInterceptor(auth)],
    // A chunk plus its framing must fit, as must the largest CreateDataset.
    readMaxBytes: Math.max(config.limits.maxRequestBytes, config.limits.maxChunkBytes + 64 * 1024),
    writeMaxBytes: config.connections.maxResponseBytes,
    logger,
    metrics,
    metricsToken: config.ops.metricsToken,
  });
  metrics.observe({ dbPool: poolStats });
  const server = await startServer({ handler, host: config.host, port: config.port, limits: config.connections });
  const janitorRuns =
    config.janitorIntervalSeconds > 0 ? schedule(config.janitorIntervalSeconds * 1000, () => janitorPass().then(() => undefined, () => undefined)) : undefined;

  /** A janitor pass, logged and counted in the metrics; the next scheduled pass retries a failed one. */
  async function janitorPass(at?: Date): Promise<JanitorReport> {
    const started = performance.now();
    try {
      const report = await janitor.runOnce(at);
      metrics.janitorPasses.inc({ outcome: "completed" });
      metrics.janitorDuration.observe((performance.now() - started) / 1000);
      for (const [kind, count] of Object.entries(report)) metrics.janitorReclaimed.inc({ kind }, count);
      const reclaimed = Object.values(report).some((n) => n > 0);
      logger[reclaimed ? "info" : "debug"]({ janitor: report, durationMs: Math.round(performance.now() - started) }, "janitor pass");
      return report;
    } catch (error) {
      metrics.janitorPasses.inc({ outcome: "failed" });
      logger.warn({ err: errorField(error, false) }, "janitor pass failed; the next pass retries");
      throw error;
    }
  }

  return {
    port: server.port,
    db,
    store,
    auth,
    janitor: { runOnce: janitorPass },
    logger,
    metrics,
    bootstrapKey: created && !config.bootstrapApiKey ? created.apiKey : undefined,
    async close() {
      health.setServing(false);
      await server.close({
        graceMs: config.ops.shutdownGraceMs,
        onGraceExpired: () => drain.abort(new UnavailableError("the server is shutting down; retry the call, or resume the upload, on another replica")),
      });
      await janitorRuns?.stop();
      if (!overrides.db) await db.destroy();
    },
  };
}
