// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

// metric_rollups' finest level (16-step buckets, 625 of the ~720 rows a
// 10,000-point batch upserted) cost more write time than it saved on reads:
// the levels become 2^7 .. 2^22 steps (metrics-repo.ts ROLLUP_SHIFTS). Those
// are the old levels 1..6, so their rows stay, renumbered 0..5.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`delete from metric_rollups where level = 0`.execute(db);
  await sql`update metric_rollups set level = level - 1`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // The 16-step level, rebuilt from the points as 20261123T2000Z-metric-rollups built every level.
  await sql`update metric_rollups set level = level + 1`.execute(db);
  await sql`
    insert into metric_rollups
    select org_id, run_id, key, 0, bucket, count, first_step, last_step,
      lo[1], lo[2]::int8, timestamptz 'epoch' + lo[3] * interval '1 millisecond',
      hi[1], hi[2]::int8, timestamptz 'epoch' + hi[3] * interval '1 millisecond'
    from (
      select min(org_id) as org_id, run_id, key, step >> 4 as bucket, count(*) as count,
        min(step) as first_step, max(step) as last_step,
        min(array[value, step::float8, (extract(epoch from ts) * 1000)::float8]) as lo,
        max(array[value, step::float8, (extract(epoch from ts) * 1000)::float8]) as hi
      from metric_points group by run_id, key, step >> 4
    ) g`.execute(db);
}
