/**
 * The composition root: config → database → object store → services → server.
 * main.ts runs it with the environment's config; tests run it in-process with
 * overrides (a clock, a failure-injecting store, a commit step hook).
 */
import type { Kysely } from "kysely";
import type { Config, StorageConfig } from "./config.js";
import { createDb } from "./db/create-db.js";
import type { Database } from "./db/schema.js";
import { type AuthService, createAuthService } from "./services/auth.js";
import { createDatasetService } from "./services/datasets.js";
import { createExperimentService } from "./services/experiments.js";
import { createJanitor } from "./services/janitor.js";
import { createMetricsService } from "./services/metrics.js";
import { createRunArtefactService } from "./services/run-artefacts.js";
import { createRunService } from "./services/runs.js";
import { type CommitStep, createUploadCommitter } from "./services/upload-commit.js";
import { createUploadService, type UploadStats } from "./services/uploads.js";
import { createLocalFsStore } from "./storage/local-fs.js";
import type { ObjectStore } from "./storage/object-store.js";
import { createS3Store } from "./storage/s3.js";
import { createHealth } from "./wire/health.js";
import { authInterceptor } from "./wire/interceptors/auth.js";
import { errorInterceptor } from "./wire/interceptors/errors.js";
import { routes, servedServices } from "./wire/routes.js";
import { startServer } from "./wire/server.js";

export interface AppOverrides {
  db?: Kysely<Database>;
  store?: ObjectStore;
  now?: () => Date;
  onCommitStep?: (step: CommitStep) => void | Promise<void>;
  log?: (message: string, error?: unknown) => void;
}

export interface App {
  port: number;
  db: Kysely<Database>;
  store: ObjectStore;
  auth: AuthService;
  janitor: ReturnType<typeof createJanitor>;
  /** Upload budget and streams, for metrics. */
  uploadStats(): UploadStats;
  /** The admin key created on first start, if this start created one. */
  bootstrapKey: string | undefined;
  close(): Promise<void>;
}

/** As documented on LogRunArtefactsRequest. */
const MAX_RUN_ARTEFACTS_PER_CALL = 1000;

export async function createStore(config: StorageConfig): Promise<ObjectStore> {
  return config.kind === "local" ? createLocalFsStore({ root: config.root }) : createS3Store(config);
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const log = overrides.log ?? ((message: string, error?: unknown) => console.error(message, error ?? ""));
  const now = overrides.now ?? (() => new Date());
  const db = overrides.db ?? (await createDb(config.database));
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
    idleTimeoutMs: config.uploadIdleTimeoutSeconds * 1000,
    writerLeaseMs: config.uploadWriterLeaseSeconds * 1000,
  });
  // Dataset versions and runs commit their uploads by one protocol.
  const committer = createUploadCommitter({ db, store, now, onStep: overrides.onCommitStep, log });
  const datasets = createDatasetService({ db, store, now, committer, maxArtefactsPerVersion: config.limits.maxArtefactsPerVersion });
  const experiments = createExperimentService({ db });
  const runs = createRunService({ db, experiments, now });
  const runArtefacts = createRunArtefactService({ db, store, committer, maxArtefactsPerCall: MAX_RUN_ARTEFACTS_PER_CALL });
  const metrics = createMetricsService({ db, now });
  const janitor = createJanitor({ db, store, uploads });
  const health = createHealth(servedServices.map((s) => s.typeName));

  const created = await auth.bootstrap(config.bootstrapApiKey);
  const server = await startServer({
    routes: routes({ uploads, datasets, experiments, runs, runArtefacts, metrics, health, maxChunkBytes: config.limits.maxChunkBytes }),
    interceptors: [errorInterceptor(log), authInterceptor(auth)],
    host: config.host,
    port: config.port,
    // A chunk plus its framing must fit, as must the largest CreateDataset.
    readMaxBytes: Math.max(config.limits.maxRequestBytes, config.limits.maxChunkBytes + 64 * 1024),
  });

  return {
    port: server.port,
    db,
    store,
    auth,
    janitor,
    uploadStats: uploads.stats,
    bootstrapKey: created && !config.bootstrapApiKey ? created.apiKey : undefined,
    async close() {
      health.setServing(false);
      await server.close();
      if (!overrides.db) await db.destroy();
    },
  };
}
