// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("projects")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("projects_org_name", ["org_id", "name"])
    .execute();

  await db.schema
    .createTable("experiments")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("experiments_project_name", ["project_id", "name"])
    .execute();

  await db.schema
    .createTable("runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id"))
    .addColumn("experiment_id", "text", (c) => c.notNull().references("experiments.id"))
    // Creation order: lists and pages go newest first by it.
    .addColumn("seq", "bigserial", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("run_group", "text")
    .addColumn("rank", "integer")
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("request_id", "text")
    .addColumn("start_time", "timestamptz", (c) => c.notNull())
    .addColumn("end_time", "timestamptz")
    .addUniqueConstraint("runs_experiment_request", ["experiment_id", "request_id"])
    .execute();
  await db.schema.createIndex("runs_project_seq").on("runs").columns(["project_id", "seq"]).execute();
  await db.schema.createIndex("runs_group").on("runs").columns(["org_id", "run_group"]).execute();

  for (const table of ["run_tags", "run_params"]) {
    await db.schema
      .createTable(table)
      .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("value", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ["run_id", "key"])
      .execute();
  }

  await db.schema
    .createTable("run_inputs")
    .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("version_id", "text", (c) => c.notNull().references("dataset_versions.id"))
    .addPrimaryKeyConstraint("run_inputs_pk", ["run_id", "version_id"])
    .execute();
  // "Which runs read this version?" (lineage from data to training).
  await db.schema.createIndex("run_inputs_version").on("run_inputs").columns(["version_id"]).execute();

  // One row per batch received: its primary key makes a resent batch a no-op.
  await db.schema
    .createTable("metric_batches")
    .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
    .addColumn("batch_id", "text", (c) => c.notNull())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("seq", "bigserial", (c) => c.notNull())
    .addColumn("point_count", "integer", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("metric_batches_pk", ["run_id", "batch_id"])
    .execute();

  // The big table, written in bulk. No org_id and no foreign key: points are
  // written only with their batch row (whose key references the run) and read
  // only through a run checked against the caller's organisation, and at
  // millions of rows per run both would cost write throughput and space.
  // (batch_seq, ord) is a point's arrival order: a unique tie-break for pages.
  await db.schema
    .createTable("metric_points")
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("step", "bigint", (c) => c.notNull())
    .addColumn("value", "double precision", (c) => c.notNull())
    .addColumn("ts", "timestamptz", (c) => c.notNull())
    .addColumn("rank", "integer")
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("batch_seq", "bigint", (c) => c.notNull())
    .addColumn("ord", "integer", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("metric_points_series").on("metric_points").columns(["run_id", "key", "step"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["metric_points", "metric_batches", "run_inputs", "run_params", "run_tags", "runs", "experiments", "projects"]) {
    await db.schema.dropTable(table).execute();
  }
}
