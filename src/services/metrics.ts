/**
 * Metric points: batches written idempotently (a batch id a run has received
 * is not written again), unary or streamed, and history read raw in pages or
 * downsampled. Values are stored as given, NaN and ±Infinity included.
 */
import type { Kysely } from "kysely";
import * as metricsRepo from "../db/metrics-repo.js";
import type { PointColumns, PointCursor, StepRange } from "../db/metrics-repo.js";
import type { Database } from "../db/schema.js";
import { bucketCount, extremesToPoints, planRollupRead } from "./downsample.js";
import { InvalidInputError, NotFoundError } from "./errors.js";
import { isWellFormedId } from "./ids.js";
import { decodeToken, encodeToken } from "./page-tokens.js";

export interface MetricBatch {
  runId: string;
  batchId: string;
  /** A tsMs of undefined: the time the server receives the batch. */
  points: Omit<PointColumns, "tsMs"> & { tsMs: (number | undefined)[] };
}

export interface BatchTotals {
  pointsAccepted: number;
  batchesAccepted: number;
  batchesDeduplicated: number;
}

export interface PointView {
  value: number;
  step: number;
  tsMs: number;
  /** Null when unknown (downsampled points, or a point logged without a worker). */
  rank: number | null;
  host: string;
}

export interface SeriesView {
  runId: string;
  key: string;
  points: PointView[];
  downsampled: boolean;
}

export interface HistoryQuery {
  key: string;
  runIds: string[];
  /** 0: raw points, paginated. */
  maxPoints: number;
  pageSize: number;
  pageToken: string;
  /** Only points within this inclusive step range (±(2^53 - 1): unbounded). */
  steps: StepRange;
}

type HistoryToken = { run: number; after?: PointCursor };

const isHistoryToken = (v: unknown): v is HistoryToken => {
  const t = v as HistoryToken | null;
  if (typeof t !== "object" || t === null || !Number.isSafeInteger(t.run)) return false;
  const a = t.after;
  return a === undefined || [a.step, a.tsMs, a.batchSeq, a.ord].every((n) => Number.isSafeInteger(n));
};

export type MetricsService = ReturnType<typeof createMetricsService>;

export function createMetricsService(deps: { db: Kysely<Database>; now: () => Date }) {
  const { db, now } = deps;

  /** Writes one batch atomically, or nothing when its batch id was received before. NotFoundError for an unknown run. */
  async function log(orgId: string, batch: MetricBatch): Promise<{ pointsAccepted: number; deduplicated: boolean }> {
    if (!isWellFormedId("run", batch.runId)) throw new NotFoundError(`run "${batch.runId}" not found`);
    const receivedMs = now().getTime();
    const points = { ...batch.points, tsMs: batch.points.tsMs.map((ms) => ms ?? receivedMs) };
    const outcome = await metricsRepo.writeBatch(db, orgId, batch.runId, batch.batchId, points);
    if (outcome === "no-run") throw new NotFoundError(`run "${batch.runId}" not found`);
    return outcome === "written" ? { pointsAccepted: points.keys.length, deduplicated: false } : { pointsAccepted: 0, deduplicated: true };
  }

  /** Writes each batch before reading the next (backpressure); the first failure ends the stream. */
  async function logStream(orgId: string, batches: AsyncIterable<MetricBatch>): Promise<BatchTotals> {
    const totals: BatchTotals = { pointsAccepted: 0, batchesAccepted: 0, batchesDeduplicated: 0 };
    for await (const batch of batches) {
      const result = await log(orgId, batch);
      totals.pointsAccepted += result.pointsAccepted;
      if (result.deduplicated) totals.batchesDeduplicated++;
      else totals.batchesAccepted++;
    }
    return totals;
  }

  async function mustOwnRuns(orgId: string, runIds: string[]): Promise<void> {
    const wellFormed = runIds.filter((id) => isWellFormedId("run", id));
    const found = new Set(
      wellFormed.length === 0
        ? []
        : (await db.selectFrom("runs").select("id").where("orgId", "=", orgId).where("id", "in", wellFormed).execute()).map((r) => r.id),
    );
    const missing = runIds.find((id) => !found.has(id));
    if (missing !== undefined) throw new NotFoundError(`run "${missing}" not found`);
  }

  /** Each run's series of `key`: downsampled to maxPoints, or a page of raw points. NotFoundError for an unknown run. */
  async function history(orgId: string, query: HistoryQuery): Promise<{ series: SeriesView[]; nextPageToken: string }> {
    await mustOwnRuns(orgId, query.runIds);
    if (query.maxPoints > 0) {
      const series: SeriesView[] = [];
      for (const runId of query.runIds) series.push(await sampled(runId, query.key, query.maxPoints, query.steps));
      return { series, nextPageToken: "" };
    }
    return rawPage(query);
  }

  async function sampled(runId: string, key: string, maxPoints: number, steps: StepRange): Promise<SeriesView> {
    const stats = await metricsRepo.seriesStats(db, runId, key);
    const whole = steps.min <= stats.minStep && steps.max >= stats.maxStep;
    // A range's count is not kept: reading one point more than asked tells whether the range needs downsampling.
    if (stats.count <= maxPoints || !whole) {
      const points = await metricsRepo.rawPoints(db, runId, key, undefined, maxPoints + 1, steps);
      if (points.length <= maxPoints) return { runId, key, points, downsampled: false };
    }
    // Rollups keep each read to a few rows per bucket; a short step span
    // (under 128 steps a bucket) has few points, read them.
    const span = { minStep: Math.max(steps.min, stats.minStep), maxStep: Math.min(steps.max, stats.maxStep) };
    const range = { ...span, buckets: bucketCount(maxPoints) };
    const plan = planRollupRead(metricsRepo.ROLLUP_SHIFTS, range);
    const cut = whole ? undefined : { min: span.minStep, max: span.maxStep };
    const buckets = plan ? await metricsRepo.rollupExtremes(db, runId, key, plan, cut) : await metricsRepo.bucketExtremes(db, runId, key, range);
    const points = extremesToPoints(buckets).map((p) => ({ ...p, rank: null, host: "" }));
    return { runId, key, points, downsampled: true };
  }

  // Pages run through the requested runs in order; a token says which run
  // and which point the next page starts after.
  async function rawPage(query: HistoryQuery): Promise<{ series: SeriesView[]; nextPageToken: string }> {
    const token: HistoryToken = query.pageToken ? decodeToken(query.pageToken, isHistoryToken) : { run: 0 };
    if (token.run >= query.runIds.length) throw new InvalidInputError("page_token", "page_token belongs to a request with other run_ids");
    const series: SeriesView[] = [];
    let room = query.pageSize;
    for (let i = token.run; i < query.runIds.length; i++) {
      const runId = query.runIds[i] as string;
      const rows = await metricsRepo.rawPoints(db, runId, query.key, i === token.run ? token.after : undefined, room + 1, query.steps);
      const points = rows.slice(0, room);
      if (points.length > 0) series.push({ runId, key: query.key, points, downsampled: false });
      if (rows.length > room) {
        const last = points[points.length - 1] as (typeof points)[number]; // room >= 1, so the page has points
        const after: PointCursor = { step: last.step, tsMs: last.tsMs, batchSeq: last.batchSeq, ord: last.ord };
        return { series, nextPageToken: encodeToken({ run: i, after } satisfies HistoryToken) };
      }
      room -= points.length;
      if (room === 0 && i + 1 < query.runIds.length) return { series, nextPageToken: encodeToken({ run: i + 1 }) };
    }
    return { series, nextPageToken: "" };
  }

  return { log, logStream, history };
}
