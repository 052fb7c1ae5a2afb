// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

// Per-series rollups of metric points, kept by metrics-repo.ts writeBatch in
// the statement that writes a batch: one row per (run, key, level, bucket),
// bucket = step >> shift(level), with the bucket's point count, step range and
// minimum and maximum point. Downsampled history reads these instead of the
// points. The level shifts are the ones metrics-repo.ts ROLLUP_SHIFTS had
// when this migration was written (4, 7, 10, 13, 16, 19, 22); changing that
// list needs a new migration that rebuilds the table.
const SHIFTS = [4, 7, 10, 13, 16, 19, 22];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("metric_rollups")
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("level", "smallint", (c) => c.notNull())
    .addColumn("bucket", "bigint", (c) => c.notNull())
    .addColumn("count", "bigint", (c) => c.notNull())
    .addColumn("first_step", "bigint", (c) => c.notNull())
    .addColumn("last_step", "bigint", (c) => c.notNull())
    .addColumn("min_value", "double precision", (c) => c.notNull())
    .addColumn("min_step", "bigint", (c) => c.notNull())
    .addColumn("min_ts", "timestamptz", (c) => c.notNull())
    .addColumn("max_value", "double precision", (c) => c.notNull())
    .addColumn("max_step", "bigint", (c) => c.notNull())
    .addColumn("max_ts", "timestamptz", (c) => c.notNull())
    .addPrimaryKeyConstraint("metric_rollups_pk", ["run_id", "key", "level", "bucket"])
    .execute();

  // Points written before this migration. Extremes compare (value, step, ts),
  // NaN above +Infinity, as the downsampling always has.
  const levels = sql.join(SHIFTS.map((shift, level) => sql`(${sql.lit(level)}::int2, ${sql.lit(shift)}::int4)`));
  await sql`
    insert into metric_rollups
    select org_id, run_id, key, level, bucket, count, first_step, last_step,
      lo[1], lo[2]::int8, timestamptz 'epoch' + lo[3] * interval '1 millisecond',
      hi[1], hi[2]::int8, timestamptz 'epoch' + hi[3] * interval '1 millisecond'
    from (
      select min(p.org_id) as org_id, p.run_id, p.key, l.level, p.step >> l.shift as bucket, count(*) as count,
        min(p.step) as first_step, max(p.step) as last_step,
        min(array[p.value, p.step::float8, (extract(epoch from p.ts) * 1000)::float8]) as lo,
        max(array[p.value, p.step::float8, (extract(epoch from p.ts) * 1000)::float8]) as hi
      from metric_points p cross join (values ${levels}) as l(level, shift)
      group by p.run_id, p.key, l.level, p.step >> l.shift
    ) g`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("metric_rollups").execute();
}
