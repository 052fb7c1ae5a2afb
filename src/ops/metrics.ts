/**
 * Prometheus metrics, served at GET /metrics. One registry per server (tests
 * run several in one process). Counters are updated where things happen;
 * gauges of state owned elsewhere (the upload budget, the database pool) are
 * read when scraped, so the code that owns the state knows nothing of them.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { PoolStats } from "../db/create-db.js";
import type { UploadStats } from "../services/uploads.js";

export interface GaugeSources {
  uploads?: () => UploadStats;
  dbPool?: () => PoolStats;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const rpcDuration = new Histogram({
    name: "traintrack_rpc_duration_seconds",
    help: "RPCs by method and final code, and how long each took (including streaming)",
    labelNames: ["method", "code"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  const rpcInFlight = new Gauge({ name: "traintrack_rpc_in_flight", help: "RPCs being served now", registers });
  const rpcReceivedBytes = new Counter({
    name: "traintrack_rpc_received_bytes_total",
    help: "Request body bytes received, by method (as sent: compressed, enveloped)",
    labelNames: ["method"] as const,
    registers,
  });
  const rpcSentBytes = new Counter({
    name: "traintrack_rpc_sent_bytes_total",
    help: "Response body bytes sent, by method",
    labelNames: ["method"] as const,
    registers,
  });
  const uploadBytes = new Counter({ name: "traintrack_upload_received_bytes_total", help: "Artefact bytes received by Upload streams", registers });
  const janitorPasses = new Counter({
    name: "traintrack_janitor_passes_total",
    help: "Janitor passes by outcome: completed, skipped (another pass held the lock) or failed",
    labelNames: ["outcome"] as const,
    registers,
  });
  const janitorReclaimed = new Counter({
    name: "traintrack_janitor_reclaimed_total",
    help: "What janitor passes reclaimed, by kind",
    labelNames: ["kind"] as const,
    registers,
  });
  const janitorDuration = new Histogram({
    name: "traintrack_janitor_pass_duration_seconds",
    help: "Duration of completed janitor passes",
    buckets: [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers,
  });

  /** Registers the gauges read at scrape time from their owners. */
  function observe(sources: GaugeSources): void {
    const { uploads, dbPool } = sources;
    if (uploads) {
      const gauge = (name: string, help: string, read: (s: UploadStats) => number) =>
        new Gauge({ name, help, registers, collect() { this.set(read(uploads())); } });
      gauge("traintrack_upload_budget_capacity_bytes", "Staged bytes all uploads together may hold in memory", (s) => s.budgetCapacity);
      gauge("traintrack_upload_budget_in_use_bytes", "Staged bytes held in memory now", (s) => s.budgetInUse);
      gauge("traintrack_upload_budget_waiters", "Uploads waiting for room in the budget", (s) => s.budgetWaiters);
      gauge("traintrack_upload_streams_active", "Upload streams open now", (s) => s.activeStreams);
    }
    if (dbPool) {
      new Gauge({
        name: "traintrack_db_pool_connections",
        help: "Database pool connections by state (in_use, idle)",
        labelNames: ["state"] as const,
        registers,
        collect() {
          const s = dbPool();
          this.set({ state: "in_use" }, s.total - s.idle);
          this.set({ state: "idle" }, s.idle);
        },
      });
      new Gauge({ name: "traintrack_db_pool_waiting", help: "Queries waiting for a pool connection", registers, collect() { this.set(dbPool().waiting); } });
    }
  }

  return { registry, rpcDuration, rpcInFlight, rpcReceivedBytes, rpcSentBytes, uploadBytes, janitorPasses, janitorReclaimed, janitorDuration, observe };
}
