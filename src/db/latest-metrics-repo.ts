/**
 * The latest point of every metric of a page of runs (Run.latest_metrics),
 * computed on read, so the metric write path (one statement per batch, the
 * throughput the benchmark measures) gains no work.
 *
 * One recursive query skip-scans metric_points' (run_id, key, step) index
 * forwards: for each run, the first entry above the previous key is the
 * next key, one index descent each, and the walk stops after the first
 * MAX_LATEST_METRICS_PER_RUN keys (plus one, which only says there are
 * more), so a run with a million keys costs what a run with a hundred does.
 * Each key's latest point is then one backward descent (latestPointOf; the
 * tie-breaks on ts and arrival sort only the points at the highest step). A
 * page costs two descents per (run, key), whatever the number of points, and
 * reads the points table alone, as SearchRuns' thresholds do.
 *
 * (Before the cap, one backward walk found a key and its latest point in one
 * descent: 0.06 ms for a run of 4 keys and 1,000,000 points, 41 ms for a page
 * of 1000 runs of 4 keys on PostgreSQL 15. A backward walk can only cap the
 * last keys, not the first.)
 */
import { type Expression, type Kysely, type RawBuilder, sql } from "kysely";
import { textArray } from "./pg-arrays.js";
import type { Database } from "./schema.js";

export interface LatestPoint {
  key: string;
  value: number;
  step: number;
  /** Milliseconds since the epoch. */
  tsMs: number;
}

const JIT_OFF_FROM_RUNS = 100;

/** Points of a run, latest first: by key (descending), then "latest" as latestPointOf defines it. */
const LATEST_FIRST = sql`order by p.key desc, p.step desc, p.ts desc, p.batch_seq desc, p.ord desc limit 1`;

/**
 * The latest point of the series (`runId`, `key`) as a subquery of at most
 * one row (value, step, ts): the highest step, then the latest timestamp,
 * then the last written (batch_seq, ord). NaN and the infinities come back as
 * stored. The one definition of "latest" for SearchRuns' metric thresholds;
 * latestMetricsOf orders by it too. Plan: a backward scan of the (run_id,
 * key, step) index with an incremental sort of the tie-breaks, reading the
 * points at the highest step only (0.04 ms on a 1,000,000-point series).
 */
export function latestPointOf(runId: Expression<unknown>, key: Expression<unknown> | string): RawBuilder<{ value: number; step: number; ts: Date }> {
  return sql`select p.value, p.step, p.ts from metric_points p where p.run_id = ${runId} and p.key = ${key} ${LATEST_FIRST}`;
}

/** The latest points of one run's metrics: the first `perRun` keys, and whether it has more. */
export interface LatestOfRun {
  points: LatestPoint[];
  truncated: boolean;
}

/**
 * The latest point of the first `perRun` metrics of each run (by key, in the
 * database's order), by run id, ordered by key (code point); runs without
 * metrics, and runs not of the organisation, are absent.
 *
 * A recursive walk finds each run's keys in ascending order, one index
 * descent each, and stops after one more than `perRun` (that one only says
 * the run has more); then each key's latest point is one descent more.
 */
export async function latestMetricsOf(db: Kysely<Database>, orgId: string, runIds: readonly string[], perRun: number): Promise<Map<string, LatestOfRun>> {
  const byRun = new Map<string, LatestOfRun>();
  if (runIds.length === 0) return byRun;
  const query = async (trx: Kysely<Database>) => {
    const result = await sql<{ runId: string; key: string; n: number; value: number | null; step: number | null; tsMs: number | null }>`
      with recursive keys(run_id, key, n) as (
        select r.id, k.key, 1 from runs r cross join lateral (
          select p.key from metric_points p where p.run_id = r.id order by p.key limit 1
        ) k where r.id = any(${textArray(runIds)}::text[]) and r.org_id = ${orgId}
        union all
        select k.run_id, next.key, k.n + 1 from keys k cross join lateral (
          select p.key from metric_points p where p.run_id = k.run_id and p.key > k.key order by p.key limit 1
        ) next where k.n <= ${perRun}
      )
      select k.run_id, k.key, k.n, l.value, l.step, (extract(epoch from l.ts) * 1000)::int8 as ts_ms
      from keys k left join lateral (${latestPointOf(sql.ref("k.run_id"), sql.ref("k.key"))}) l on k.n <= ${perRun}`.execute(trx);
    return result.rows;
  };
  // The planner guesses 100 rows per run for the recursion, so from a few
  // hundred runs on the plan's cost passes jit_above_cost, and compiling it
  // would take longer than running it: pages of many runs turn JIT off for
  // this query (PGlite has none; the setting is accepted and ignored). A few
  // runs' plan is far below the threshold and spared the transaction's round
  // trips.
  const rows =
    runIds.length < JIT_OFF_FROM_RUNS
      ? await query(db)
      : await db.transaction().execute(async (trx) => {
          await sql`set local jit = off`.execute(trx);
          return query(trx);
        });
  for (const row of rows) {
    const entry = byRun.get(row.runId) ?? { points: [], truncated: false };
    if (Number(row.n) > perRun) entry.truncated = true;
    else entry.points.push({ key: row.key, value: Number(row.value), step: Number(row.step), tsMs: Number(row.tsMs) });
    byRun.set(row.runId, entry);
  }
  // By code point, not by the database's collation, so both backends list keys alike.
  for (const { points } of byRun.values()) points.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return byRun;
}
