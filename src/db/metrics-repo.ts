/**
 * Metric batches and points: the write path is one statement per batch (all
 * points through unnest), and reads walk the (run_id, key, step) index.
 * Points carry their org_id like every row; reads reach them through a run
 * already checked against the organisation (writeBatch checks in its first
 * statement), so the (run_id, key, step) index serves every query.
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.js";

export interface NewPoint {
  key: string;
  value: number;
  step: number;
  /** Milliseconds since the epoch. */
  tsMs: number;
  rank: number | null;
  host: string;
}

export interface StoredPoint extends NewPoint {
  batchSeq: number;
  ord: number;
}

/** Where a page of raw points resumes: the last point returned, in (step, ts, batch_seq, ord) order. */
export interface PointCursor {
  step: number;
  tsMs: number;
  batchSeq: number;
  ord: number;
}

const TS = (ms: unknown) => sql`timestamptz 'epoch' + ${ms}::float8 * interval '1 millisecond'`;

/**
 * Records batch `batchId` of a run and writes its points, unless the run has
 * received that batch id before: one statement, so one round trip and atomic
 * without a transaction. A concurrent resend waits on the batch row's key,
 * then finds it. "no-run": the run is not the organisation's.
 */
export async function writeBatch(
  db: Kysely<Database>,
  orgId: string,
  runId: string,
  batchId: string,
  points: readonly NewPoint[],
): Promise<"written" | "duplicate" | "no-run"> {
  // Numbers go as array literals: pg and PGlite both spell NaN and ±Infinity
  // the way float8 input reads them ("NaN", "Infinity", "-Infinity").
  const result = await sql<{ seq: number | null }>`
    with batch as (
      insert into metric_batches (run_id, batch_id, org_id, point_count)
      select id, ${batchId}::text, org_id, ${points.length}::int4 from runs where id = ${runId} and org_id = ${orgId}
      on conflict do nothing
      returning seq, org_id
    ), written as (
      insert into metric_points (org_id, run_id, key, step, value, ts, rank, host, batch_seq, ord)
      select batch.org_id, ${runId}::text, u.key, u.step, u.value, ${TS(sql.ref("u.ms"))}, u.rank, u.host, batch.seq, u.ord::int4
      from batch, unnest(
        ${points.map((p) => p.key)}::text[], ${points.map((p) => p.step)}::int8[], ${points.map((p) => p.value)}::float8[],
        ${points.map((p) => p.tsMs)}::int8[], ${points.map((p) => p.rank)}::int4[], ${points.map((p) => p.host)}::text[]
      ) with ordinality as u(key, step, value, ms, rank, host, ord)
    )
    select (select seq from batch) as seq`.execute(db);
  if (result.rows[0]?.seq != null) return "written";
  const run = await db.selectFrom("runs").select("id").where("id", "=", runId).where("orgId", "=", orgId).executeTakeFirst();
  return run ? "duplicate" : "no-run";
}

/** How many points a series has, and its step range. */
export async function seriesStats(db: Kysely<Database>, runId: string, key: string): Promise<{ count: number; minStep: number; maxStep: number }> {
  const result = await sql<{ count: number; minStep: number | null; maxStep: number | null }>`
    select count(*)::int8 as count, min(step) as min_step, max(step) as max_step
    from metric_points where run_id = ${runId} and key = ${key}`.execute(db);
  const row = result.rows[0];
  return { count: Number(row?.count ?? 0), minStep: Number(row?.minStep ?? 0), maxStep: Number(row?.maxStep ?? 0) };
}

/** Up to `limit` points of a series after `after`, in (step, ts, arrival) order. */
export async function rawPoints(
  db: Kysely<Database>,
  runId: string,
  key: string,
  after: PointCursor | undefined,
  limit: number,
): Promise<StoredPoint[]> {
  // The step bound lets the (run_id, key, step) index start at the cursor.
  const resume = after
    ? sql`and step >= ${after.step}::int8 and (step, ts, batch_seq, ord) > (${after.step}::int8, ${TS(after.tsMs)}, ${after.batchSeq}::int8, ${after.ord}::int4)`
    : sql``;
  const result = await sql<StoredPoint>`
    select key, value, step, (extract(epoch from ts) * 1000)::int8 as ts_ms, rank, host, batch_seq, ord
    from metric_points where run_id = ${runId} and key = ${key} ${resume}
    order by step, ts, batch_seq, ord limit ${limit}`.execute(db);
  return result.rows.map((p) => ({ ...p, step: Number(p.step), tsMs: Number(p.tsMs), batchSeq: Number(p.batchSeq) }));
}

/** A bucket's extreme points as [value, step, tsMs], compared in that order (NaN above +Infinity). */
export interface BucketExtremes {
  min: number[];
  max: number[];
}

/**
 * The minimum and maximum point of each of `buckets` equal step ranges over
 * [minStep, maxStep], in one scan of the series. Empty buckets are absent.
 */
export async function bucketExtremes(
  db: Kysely<Database>,
  runId: string,
  key: string,
  range: { minStep: number; maxStep: number; buckets: number },
): Promise<BucketExtremes[]> {
  const width = range.maxStep - range.minStep + 1;
  const result = await sql<BucketExtremes>`
    select min(point) as min, max(point) as max from (
      select array[value, step::float8, (extract(epoch from ts) * 1000)::float8] as point,
        least(floor((step - ${range.minStep}::int8)::float8 * ${range.buckets} / ${width}::float8)::int, ${range.buckets - 1}) as bucket
      from metric_points where run_id = ${runId} and key = ${key}
    ) p group by bucket`.execute(db);
  return result.rows;
}
