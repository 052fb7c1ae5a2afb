/**
 * The composition root: config → database → object store → services → server.
 * main.ts runs it with the environment's config; tests run it in-process with
 * overrides (a clock, a failure-injecting store, a commit step hook).
 */
import { setMaxListeners } from "node:events";
import type { Kysely } from "kysely";
import type { Config, StorageConfig } from "./config.js";
import { withAdvisoryLock } from "./db/advisory-lock.js";
import { createDb } from "./db/create-db.js";
import type { Database } from "./db/schema.js";
import { createDatasetService } from "./services/datasets.js";
import { createExperimentService } from "./services/experiments.js";
import {
  type Authenticator,
  createAuditLog,
  createAuthenticator,
  createFailureLimiter,
  createGrantService,
  createKeyService,
  createOrganizationService,
  createScopeResolver,
  createSessionService,
  createUserDirectory,
  type OrganizationService,
} from "./services/identity/index.js";
import { ACCESS_CHANNEL } from "./db/access-repo.js";
import type { Subscription } from "./db/notifications.js";
import { createJanitor } from "./services/janitor.js";
import { createLineageGraph } from "./services/lineage-graph.js";
import { createMetricsService } from "./services/metrics.js";
import { createModelService } from "./services/models/index.js";
import { createPipelineService } from "./services/pipelines/index.js";
import { createOpenLineageIntake } from "./services/pipelines/openlineage-intake.js";
import { createRunArtefactService } from "./services/run-artefacts.js";
import { createRunService } from "./services/runs.js";
import { type CommitStep, createUploadCommitter } from "./services/upload-commit.js";
import { createUploadService, type UploadStats } from "./services/uploads.js";
import { errorField, type Logger, createLogger } from "./ops/logger.js";
import { createMetrics, type Metrics } from "./ops/metrics.js";
import { observeJanitor } from "./ops/observed-janitor.js";
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
import { malformedStreamInterceptor } from "./wire/malformed-bodies.js";
import { createNodeHandler } from "./wire/node-handler.js";
import { routes, servedServices } from "./wire/routes.js";
import { createOpenLineageHandler } from "./wire/openlineage/index.js";
import { createDownloadRoute } from "./wire/downloads/index.js";
import { createScimHandler } from "./wire/scim/index.js";
import { createSessionRoute } from "./wire/session/index.js";
import { createUiHandler, loadUiAssets } from "./wire/ui/index.js";
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
  /** Organisations (tests make a second one here). */
  organizations: OrganizationService;
  authenticator: Authenticator;
  /** The janitor; its passes are logged and counted in the metrics. */
  janitor: Pick<ReturnType<typeof createJanitor>, "runOnce">;
  logger: Logger;
  metrics: Metrics;
  /** Upload budget and streams (also in the metrics). */
  uploadStats(): UploadStats;
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

/** The janitor's advisory lock: "tt" (Traintrack's namespace), job 1. */
const JANITOR_LOCK = { space: 0x7474, job: 1 };

/** As documented on LogRunArtefactsRequest. */
const MAX_RUN_ARTEFACTS_PER_CALL = 1000;

export async function createStore(config: StorageConfig): Promise<ObjectStore> {
  return config.kind === "local" ? createLocalFsStore({ root: config.root }) : createS3Store(config);
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.ops.logLevel);
  const log = (message: string, error?: unknown) => logger.warn(error === undefined ? {} : { err: errorField(error, true) }, message);
  const metrics = createMetrics();
  const now = overrides.now ?? (() => new Date());
  const { db, poolStats, notifications } = overrides.db
    ? { db: overrides.db, poolStats: undefined, notifications: undefined }
    : await createDb(config.database, { log });
  const store = overrides.store ?? (await createStore(config.storage));

  const organizations = createOrganizationService({ db });
  const authenticator = createAuthenticator({
    db,
    now,
    cacheMs: config.access.cacheMs,
    adminKey: config.access.adminKey,
    failures: createFailureLimiter({ burst: config.access.authFailureBurst, refillMs: config.access.authFailureRefillMs }),
  });
  // Keys are cached only while this replica hears every access change (authenticator.ts).
  let accessFeed: Subscription | undefined;
  if (notifications && config.access.cacheMs > 0) {
    accessFeed = await notifications.subscribe(ACCESS_CHANNEL, (orgId) => authenticator.forget(orgId), (live) => authenticator.setCaching(live));
    authenticator.setCaching(accessFeed.live);
  }
  const accessChanged = (orgId: string) => authenticator.forget(orgId);
  const users = createUserDirectory({ db, now, accessChanged });
  const identity = {
    organizations,
    users,
    grants: createGrantService({ db, users }),
    keys: createKeyService({ db, now, accessChanged }),
    audit: createAuditLog({ db }),
    scopes: createScopeResolver({ db }),
  };
  const sessions = createSessionService({
    db,
    now,
    authenticator,
    audit: identity.audit,
    idleMs: config.access.session.idleMs,
    maxMs: config.access.session.maxMs,
  });
  const uploads = createUploadService({
    db,
    store,
    now,
    segmentBytes: config.segmentBytes,
    inFlightBytes: config.uploadMemoryBytes,
    maxArtefactBytes: config.limits.maxArtefactBytes,
    uploadTtlSeconds: config.uploadTtlSeconds,
    idleTimeoutMs: config.uploadIdleTimeoutSeconds * 1000,
    writerLeaseMs: config.uploadWriterLeaseSeconds * 1000,
  });
  // Dataset versions and runs commit their uploads by one protocol.
  const committer = createUploadCommitter({ db, store, now, onStep: overrides.onCommitStep, log });
  const datasets = createDatasetService({ db, store, now, committer, maxArtefactsPerVersion: config.limits.maxArtefactsPerVersion });
  const experiments = createExperimentService({ db });
  const runs = createRunService({ db, experiments, now });
  const runArtefacts = createRunArtefactService({ db, store, committer, maxArtefactsPerCall: MAX_RUN_ARTEFACTS_PER_CALL });
  const metricsService = createMetricsService({ db, now });
  const models = createModelService({ db, store, committer, now, ensureProject: experiments.ensureProject });
  const pipelines = createPipelineService({ db, now, ensureProject: experiments.ensureProject });
  const lineage = createLineageGraph({ db });
  // Aborted as shutdown begins: a janitor pass ends after its current batch.
  const stopping = new AbortController();
  const janitor = createJanitor({
    stop: stopping.signal,
    db,
    store,
    uploads,
    stagingGraceMs: config.stagingGraceSeconds * 1000,
    budgetMs: config.janitorBudgetSeconds * 1000,
    claimTakeoverMs: config.janitorClaimTakeoverSeconds * 1000,
    // PGlite serves one process, where the janitor's own guard suffices.
    crossProcessLock: config.database.kind === "postgres" ? (pass) => withAdvisoryLock(db, JANITOR_LOCK, pass) : undefined,
  });
  const health = createHealth(servedServices.map((s) => s.typeName));
  // Before the port opens: a build too large stops the start here, and an absent one is said once.
  const uiAssets = await loadUiAssets(config.uiDir);
  if (!uiAssets) logger.info({ uiDir: config.uiDir }, "the web UI is not built: / answers 503 until `npm run build`");

  const created = await organizations.bootstrap(config.bootstrapApiKey);
  // Aborted when shutdown's grace period is over: streams still open end with UNAVAILABLE.
  // Every open stream waits on it: many listeners are normal, not a leak.
  const drain = new AbortController();
  setMaxListeners(0, drain.signal);
  const handler = createNodeHandler({
    routes: routes({
      uploads,
      datasets,
      experiments,
      runs,
      runArtefacts,
      metrics: metricsService,
      models,
      pipelines,
      lineage,
      identity,
      now,
      health,
      maxChunkBytes: config.limits.maxChunkBytes,
      countUploadBytes: (bytes) => metrics.uploadBytes.inc(bytes),
      shutdown: drain.signal,
    }),
    // Outermost first: observe sees the codes the error interceptor chose; auth runs
    // next to the handler, and inside it request bodies that fail to parse become INVALID_ARGUMENT.
    interceptors: [observeInterceptor(), errorInterceptor(), drainInterceptor(drain.signal), authInterceptor({ authenticator, scopes: identity.scopes, audit: identity.audit, sessions }), malformedStreamInterceptor],
    // A chunk plus its framing must fit, as must the largest CreateDataset.
    readMaxBytes: Math.max(config.limits.maxRequestBytes, config.limits.maxChunkBytes + 64 * 1024),
    writeMaxBytes: config.connections.maxResponseBytes,
    logger,
    metrics,
    metricsToken: config.ops.metricsToken,
    ui: createUiHandler(uiAssets),
    session: createSessionRoute({
      sessions,
      secureCookie: config.access.session.secureCookie,
      maxAgeSeconds: Math.floor(config.access.session.maxMs / 1000),
      logInternal: (error, requestId) => logger.error({ err: errorField(error, true), requestId }, "session request failed"),
    }),
    scim: createScimHandler({ authenticator, users, audit: identity.audit }),
    downloads: createDownloadRoute({
      authenticator,
      sessions,
      scopes: identity.scopes,
      audit: identity.audit,
      datasets,
      runArtefacts,
      models,
      logInternal: (error, requestId) => logger.error({ err: errorField(error, true), requestId }, "download failed"),
    }),
    openLineage: createOpenLineageHandler({
      authenticator,
      intake: createOpenLineageIntake({ db, pipelines }),
      audit: identity.audit,
      logInternal: (error, requestId) => logger.error({ err: errorField(error, true), requestId }, "OpenLineage event failed"),
    }),
  });
  metrics.observe({ dbPool: poolStats, uploads: uploads.stats });
  const server = await startServer({ handler, host: config.host, port: config.port, limits: config.connections });
  const observed = observeJanitor(janitor, { metrics, logger });
  const janitorRuns =
    config.janitorIntervalSeconds > 0 ? schedule(config.janitorIntervalSeconds * 1000, () => observed.runOnce().then(() => undefined, () => undefined)) : undefined;

  return {
    port: server.port,
    db,
    store,
    organizations,
    authenticator,
    janitor: observed,
    logger,
    metrics,
    uploadStats: uploads.stats,
    bootstrapKey: created && !config.bootstrapApiKey ? created.ownerKeySecret : undefined,
    async close() {
      health.setServing(false);
      stopping.abort();
      await server.close({
        graceMs: config.ops.shutdownGraceMs,
        endStreams: () => drain.abort(new UnavailableError("the server is shutting down: retry on another replica")),
      });
      await janitorRuns?.stop();
      await accessFeed?.close();
      if (!overrides.db) await db.destroy();
    },
  };
}
