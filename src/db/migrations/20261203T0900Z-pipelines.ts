// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

/**
 * Pipelines, their runs, and each run's step instances with their upstream
 * steps and their inputs and outputs; external datasets (known by namespace
 * and name only). Step-to-step edges also follow the data: an output of one
 * step that is an input of another (the same ref_key) makes an edge.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("pipelines")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.references("projects.id"))
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("namespace", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("pipelines_org_name", ["org_id", "name"])
    .execute();

  await db.schema
    .createTable("pipeline_runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("pipeline_id", "text", (c) => c.notNull().references("pipelines.id"))
    .addColumn("seq", "bigserial", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("start_time", "timestamptz", (c) => c.notNull())
    .addColumn("end_time", "timestamptz")
    .addColumn("trigger", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("params", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("facets", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("request_id", "text")
    // OpenLineage's run id (a UUID), for runs recorded from its events.
    .addColumn("external_id", "text")
    .execute();
  await sql`create unique index pipeline_runs_request on pipeline_runs (pipeline_id, request_id) where request_id is not null`.execute(db);
  await sql`create unique index pipeline_runs_external on pipeline_runs (org_id, external_id) where external_id is not null`.execute(db);
  await db.schema.createIndex("pipeline_runs_pipeline").on("pipeline_runs").columns(["pipeline_id", "seq"]).execute();

  await db.schema
    .createTable("pipeline_steps")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("pipeline_id", "text", (c) => c.notNull())
    .addColumn("pipeline_run_id", "text", (c) => c.notNull().references("pipeline_runs.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("instance", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("start_time", "timestamptz")
    .addColumn("end_time", "timestamptz")
    .addColumn("run_id", "text", (c) => c.references("runs.id"))
    .addColumn("cache_key", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("cached_from", "text")
    .addColumn("message", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("facets", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("external_id", "text")
    .addUniqueConstraint("pipeline_steps_instance", ["pipeline_run_id", "name", "instance"])
    .execute();
  await sql`create index pipeline_steps_cache on pipeline_steps (pipeline_id, cache_key) where cache_key <> '' and status = 'succeeded'`.execute(db);
  await sql`create unique index pipeline_steps_external on pipeline_steps (org_id, external_id) where external_id is not null`.execute(db);
  await db.schema.createIndex("pipeline_steps_run").on("pipeline_steps").columns(["run_id"]).execute();

  await db.schema
    .createTable("step_upstream")
    .addColumn("pipeline_run_id", "text", (c) => c.notNull().references("pipeline_runs.id"))
    .addColumn("step", "text", (c) => c.notNull())
    .addColumn("upstream", "text", (c) => c.notNull())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("step_upstream_pk", ["pipeline_run_id", "step", "upstream"])
    .execute();
  await db.schema.createIndex("step_upstream_reverse").on("step_upstream").columns(["pipeline_run_id", "upstream"]).execute();

  await db.schema
    .createTable("external_datasets")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("namespace", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("facets", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("external_datasets_name", ["org_id", "namespace", "name"])
    .execute();

  await db.schema
    .createTable("step_io")
    .addColumn("step_id", "text", (c) => c.notNull().references("pipeline_steps.id"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("pipeline_run_id", "text", (c) => c.notNull())
    .addColumn("step", "text", (c) => c.notNull())
    .addColumn("direction", "text", (c) => c.notNull())
    // "dataset:<version id>", "model:<version id>", "artefact:<run id>/<path>", "external:<id>": what is the same thing.
    .addColumn("ref_key", "text", (c) => c.notNull())
    .addColumn("dataset_version_id", "text")
    .addColumn("model_version_id", "text")
    .addColumn("run_id", "text")
    .addColumn("path", "text")
    .addColumn("external_id", "text")
    .addPrimaryKeyConstraint("step_io_pk", ["step_id", "direction", "ref_key"])
    .execute();
  await db.schema.createIndex("step_io_run_ref").on("step_io").columns(["pipeline_run_id", "ref_key", "direction"]).execute();
  // The lineage graph asks which steps read or wrote a thing.
  await db.schema.createIndex("step_io_ref").on("step_io").columns(["org_id", "ref_key"]).execute();
}
