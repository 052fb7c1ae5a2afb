/**
 * Metric batches and points: the write path is one statement per batch (all
 * points through unnest, and the batch folded into the series' rollups), and
 * reads walk the (run_id, key, step) index, or for downsampled history the
 * rollups' (run_id, key, level, bucket) key.
 * Points carry their org_id like every row; reads reach them through a run
 * already checked against the organisation (writeBatch checks in its first
 * statement), so the (run_id, key, step) index serves every query.
 */
import { type Kysely, sql } from "kysely";
import { float8Array, intArray, textArray } from "./pg-arrays.js";
import type { Database } from "./schema.js";

/** A batch's points as columns, point i at index i of each: how they are validated and written, without an object per point. */
export interface PointColumns {
  keys: string[];
  values: number[];
  steps: number[];
  /** Milliseconds since the epoch. */
  tsMs: number[];
  ranks: (number | null)[];
  hosts: string[];
}

export interface StoredPoint {
  key: string;
  value: number;
  step: number;
  /** Milliseconds since the epoch. */
  tsMs: number;
  rank: number | null;
  host: string;
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
 * Rollup levels: level i groups a series' points into buckets of
 * 2^ROLLUP_SHIFTS[i] steps (bucket = step >> shift), each row keeping the
 * bucket's count, step range and extreme points. A factor of 8 between
 * levels keeps a downsampled read within 8x its bucket budget (the next finer
 * level had more than that), while a 10,000-point batch upserts about 92
 * rollup rows across the 6 levels (79 at the finest). 128 steps is the
 * finest: spans under 128 x buckets steps (64,000 for 1,000 points) are read
 * from the points, which are few then. A 16-step level made the batch's
 * statement cost PostgreSQL 6.1 instead of 4.6 CPU-s per 1M points, for
 * little read gain: the migration 20261123T2200Z-coarser-rollups dropped it. 2^22 (4M steps) is the
 * coarsest: a series' totals are the sum of its rows there, one row up to 4M
 * steps. Changing this list needs a migration that rebuilds metric_rollups.
 */
export const ROLLUP_SHIFTS: readonly number[] = [7, 10, 13, 16, 19, 22];
const COARSEST = ROLLUP_SHIFTS.length - 1;
const FINEST = ROLLUP_SHIFTS[0] as number;

/**
 * The CTE body that folds the points of CTE `pts` (empty for a resent batch)
 * into metric_rollups: one row per (key, level, bucket) of the batch, merged
 * into the stored row. Extremes compare (value, step, ts) as bucketExtremes
 * does, NaN above +Infinity (float8 and row comparison both order so). The
 * points are grouped once, at the finest level, and coarser levels are
 * grouped from those groups (a bucket's extremes are its parts'). Rows
 * go in key order, so concurrent batches lock shared rows in one order.
 */
function rollupUpsert(runId: string) {
  const levels = sql.join(ROLLUP_SHIFTS.map((shift, level) => sql`(${sql.lit(level)}::int2, ${sql.lit(shift)}::int4)`));
  const keep = (side: "min" | "max", col: string) => {
    const cmp = side === "min" ? sql`<` : sql`>`;
    const [v, st, ts] = [`${side}_value`, `${side}_step`, `${side}_ts`];
    return sql`${sql.raw(`${side}_${col}`)} = case when (excluded.${sql.raw(v)}, excluded.${sql.raw(st)}, excluded.${sql.raw(ts)}) ${cmp}
      (metric_rollups.${sql.raw(v)}, metric_rollups.${sql.raw(st)}, metric_rollups.${sql.raw(ts)})
      then excluded.${sql.raw(`${side}_${col}`)} else metric_rollups.${sql.raw(`${side}_${col}`)} end`;
  };
  return sql`
      insert into metric_rollups (org_id, run_id, key, level, bucket, count, first_step, last_step,
        min_value, min_step, min_ts, max_value, max_step, max_ts)
      select org_id, ${runId}::text, key, level, bucket, count, first_step, last_step,
        lo[1], lo[2]::int8, ${TS(sql`lo[3]`)}, hi[1], hi[2]::int8, ${TS(sql`hi[3]`)}
      from (
        select min(org_id) as org_id, key, l.level, fine >> (l.shift - ${sql.lit(FINEST)}::int4) as bucket, sum(count)::int8 as count,
          min(first_step) as first_step, max(last_step) as last_step, min(lo) as lo, max(hi) as hi
        from (
          select min(org_id) as org_id, key, step >> ${sql.lit(FINEST)}::int4 as fine, count(*) as count, min(step) as first_step, max(step) as last_step,
            min(array[value, step::float8, ms::float8]) as lo, max(array[value, step::float8, ms::float8]) as hi
          from pts group by key, step >> ${sql.lit(FINEST)}::int4
        ) f cross join (values ${levels}) as l(level, shift)
        group by key, l.level, fine >> (l.shift - ${sql.lit(FINEST)}::int4)
      ) g
      order by key, level, bucket
      on conflict (run_id, key, level, bucket) do update set
        count = metric_rollups.count + excluded.count,
        first_step = least(metric_rollups.first_step, excluded.first_step),
        last_step = greatest(metric_rollups.last_step, excluded.last_step),
        ${keep("min", "value")}, ${keep("min", "step")}, ${keep("min", "ts")},
        ${keep("max", "value")}, ${keep("max", "step")}, ${keep("max", "ts")}`;
}

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
  points: PointColumns,
): Promise<"written" | "duplicate" | "no-run"> {
  const result = await sql<{ seq: number | null }>`
    with batch as (
      insert into metric_batches (run_id, batch_id, org_id, point_count)
      select id, ${batchId}::text, org_id, ${points.keys.length}::int4 from runs where id = ${runId} and org_id = ${orgId}
      on conflict do nothing
      returning seq, org_id
    ), pts as (
      select batch.org_id, batch.seq, u.key, u.step, u.value, u.ms, u.rank, u.host, u.ord
      from batch, unnest(
        ${textArray(points.keys)}::text[], ${intArray(points.steps)}::int8[], ${float8Array(points.values)}::float8[],
        ${intArray(points.tsMs)}::int8[], ${intArray(points.ranks)}::int4[], ${textArray(points.hosts)}::text[]
      ) with ordinality as u(key, step, value, ms, rank, host, ord)
    ), written as (
      insert into metric_points (org_id, run_id, key, step, value, ts, rank, host, batch_seq, ord)
      select org_id, ${runId}::text, key, step, value, ${TS(sql.ref("ms"))}, rank, host, seq, ord::int4 from pts
    ), rolled as (
      ${rollupUpsert(runId)}
    )
    select (select seq from batch) as seq`.execute(db);
  if (result.rows[0]?.seq != null) return "written";
  const run = await db.selectFrom("runs").select("id").where("id", "=", runId).where("orgId", "=", orgId).executeTakeFirst();
  return run ? "duplicate" : "no-run";
}

/** How many points a series has, and its step range: from its coarsest rollup rows (one per 4M steps). */
export async function seriesStats(db: Kysely<Database>, runId: string, key: string): Promise<{ count: number; minStep: number; maxStep: number }> {
  const result = await sql<{ count: number | null; minStep: number | null; maxStep: number | null }>`
    select sum(count)::int8 as count, min(first_step) as min_step, max(last_step) as max_step
    from metric_rollups where run_id = ${runId} and key = ${key} and level = ${COARSEST}::int2`.execute(db);
  const row = result.rows[0];
  return { count: Number(row?.count ?? 0), minStep: Number(row?.minStep ?? 0), maxStep: Number(row?.maxStep ?? 0) };
}

/** An inclusive step range. */
export interface StepRange {
  min: number;
  max: number;
}

/** Up to `limit` points of a series after `after` (and within `steps`), in (step, ts, arrival) order. */
export async function rawPoints(
  db: Kysely<Database>,
  runId: string,
  key: string,
  after: PointCursor | undefined,
  limit: number,
  steps?: StepRange,
): Promise<StoredPoint[]> {
  // The step bound lets the (run_id, key, step) index start at the cursor.
  const resume = after
    ? sql`and step >= ${after.step}::int8 and (step, ts, batch_seq, ord) > (${after.step}::int8, ${TS(after.tsMs)}, ${after.batchSeq}::int8, ${after.ord}::int4)`
    : sql``;
  const result = await sql<StoredPoint>`
    select key, value, step, (extract(epoch from ts) * 1000)::int8 as ts_ms, rank, host, batch_seq, ord
    from metric_points where run_id = ${runId} and key = ${key} ${resume} ${inRange(steps)}
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
      from metric_points where run_id = ${runId} and key = ${key} ${inRange({ min: range.minStep, max: range.maxStep })}
    ) p group by bucket`.execute(db);
  return result.rows;
}

const inRange = (steps: StepRange | undefined) => (steps ? sql`and step between ${steps.min}::int8 and ${steps.max}::int8` : sql``);

/**
 * The minimum and maximum point of each group of rollup rows at `level`:
 * rows [firstBucket, firstBucket + buckets) fall into `groups` consecutive
 * groups, row b into ((b - firstBucket) * groups) / buckets (downsample.ts
 * planRollupRead). Reads at most `buckets` rows. Empty groups are absent.
 * With `cut`, only points within it count: a rollup row reaching past either
 * end (its extremes may lie outside) is replaced by its points inside the
 * range, read from the points (at most one row's steps at each end).
 */
export async function rollupExtremes(
  db: Kysely<Database>,
  runId: string,
  key: string,
  plan: { level: number; firstBucket: number; buckets: number; groups: number },
  cut?: StepRange,
): Promise<BucketExtremes[]> {
  const ms = (col: string) => sql`(extract(epoch from ${sql.ref(col)}) * 1000)::float8`;
  const shift = ROLLUP_SHIFTS[plan.level] as number;
  const group = (bucket: unknown) => sql`((${bucket} - ${plan.firstBucket}::int8) * ${plan.groups}::int8) / ${plan.buckets}::int8`;
  const rows = sql`
    select ${group(sql.ref("bucket"))} as g, array[min_value, min_step::float8, ${ms("min_ts")}] as lo, array[max_value, max_step::float8, ${ms("max_ts")}] as hi
    from metric_rollups where run_id = ${runId} and key = ${key} and level = ${plan.level}::int2`;
  if (!cut) {
    const result = await sql<BucketExtremes>`select min(lo) as min, max(hi) as max from (${rows}) r group by g`.execute(db);
    return result.rows;
  }
  const width = 2 ** shift;
  // Rows [fullFirst, fullLast] lie wholly inside the cut; the steps around them come from the points.
  const fullFirst = Math.ceil(cut.min / width);
  const fullLast = Math.floor((cut.max + 1) / width) - 1;
  const edges =
    fullFirst > fullLast
      ? [cut]
      : [
          { min: cut.min, max: Math.min(cut.max, fullFirst * width - 1) },
          { min: Math.max(cut.min, (fullLast + 1) * width), max: cut.max },
        ].filter((e) => e.min <= e.max);
  const points = edges.map(
    (e) => sql`
    select ${group(sql`(step >> ${sql.lit(shift)}::int4)`)} as g, p.point as lo, p.point as hi
    from metric_points, lateral (select array[value, step::float8, (extract(epoch from ts) * 1000)::float8] as point) p
    where run_id = ${runId} and key = ${key} and step between ${e.min}::int8 and ${e.max}::int8`,
  );
  const full = fullFirst > fullLast ? [] : [sql`${rows} and bucket between ${fullFirst}::int8 and ${fullLast}::int8`];
  const result = await sql<BucketExtremes>`
    select min(lo) as min, max(hi) as max from (${sql.join([...full, ...points], sql` union all `)}) r group by g`.execute(db);
  return result.rows;
}
