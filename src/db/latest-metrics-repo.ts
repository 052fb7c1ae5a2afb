/**
 * The latest point of every metric of a page of runs (Run.latest_metrics),
 * computed on read, so the metric write path (one statement per batch, the
 * throughput the benchmark measures) gains no work.
 *
 * One recursive query walks metric_points' (run_id, key, step) index
 * backwards, a skip scan: for each run, the first entry below the previous
 * key is the next key's highest step, so one index descent finds a key and
 * its latest point at once (the tie-breaks on ts and arrival sort only the
 * points at that step). A page costs one descent per (run, key), whatever
 * the number of points, and reads the points table alone, as SearchRuns'
 * thresholds do. (Finding the keys in metric_rollups first costs another
 * descent per key, measured no faster, and would tie this read to how the
 * write path keeps rollups.)
 *
 * EXPLAIN ANALYZE, PostgreSQL 15, warm cache, a run with 1,000,000 points of
 * "loss" and 100 of each of 3 other keys: 5 "Index Scan Backward using
 * metric_points_series", 2 rows read each, 22 buffers, 0.06 ms (0.7 ms for
 * the call from Node). A page of 1000 runs of 4 keys: 41 ms; PGlite: 75 ms.
 */
import { type Expression, type Kysely, type RawBuilder, sql } from "kysely";
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

/**
 * The latest point of every metric of each run, by run id, ordered by key
 * (code point); runs without metrics, and runs not of the organisation, are
 * absent.
 */
export async function latestMetricsOf(db: Kysely<Database>, orgId: string, runIds: readonly string[]): Promise<Map<string, LatestPoint[]>> {
  const byRun = new Map<string, LatestPoint[]>();
  if (runIds.length === 0) return byRun;
  const query = async (trx: Kysely<Database>) => {
    const result = await sql<{ runId: string; key: string; value: number; step: number; tsMs: number }>`
      with recursive latest(run_id, key, value, step, ts) as (
        select r.id, p.key, p.value, p.step, p.ts from runs r cross join lateral (
          select p.key, p.value, p.step, p.ts from metric_points p where p.run_id = r.id ${LATEST_FIRST}
        ) p where r.id = any(${[...runIds]}::text[]) and r.org_id = ${orgId}
        union all
        select k.run_id, p.key, p.value, p.step, p.ts from latest k cross join lateral (
          select p.key, p.value, p.step, p.ts from metric_points p where p.run_id = k.run_id and p.key < k.key ${LATEST_FIRST}
        ) p
      )
      select run_id, key, value, step, (extract(epoch from ts) * 1000)::int8 as ts_ms from latest`.execute(trx);
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
    const list = byRun.get(row.runId) ?? [];
    list.push({ key: row.key, value: row.value, step: Number(row.step), tsMs: Number(row.tsMs) });
    byRun.set(row.runId, list);
  }
  // By code point, not by the database's collation, so both backends list keys alike.
  for (const list of byRun.values()) list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return byRun;
}
