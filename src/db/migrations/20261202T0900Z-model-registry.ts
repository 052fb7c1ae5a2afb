// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

/**
 * The model registry: models, their immutable numbered versions and files
 * (content-addressed: rows naming blobs, as artefacts do), aliases, and the
 * append-only history of every alias move.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("registered_models")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.references("projects.id"))
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("tags", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("latest_version", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("registered_models_org_name", ["org_id", "name"])
    .execute();

  await db.schema
    .createTable("model_versions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("model_id", "text", (c) => c.notNull().references("registered_models.id"))
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("run_id", "text", (c) => c.references("runs.id"))
    .addColumn("from_run_artefacts", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("framework", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("signature", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("tags", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("request_id", "text")
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("file_count", "integer", (c) => c.notNull())
    .addColumn("total_size", "bigint", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("model_versions_model_version", ["model_id", "version"])
    .execute();
  await sql`create unique index model_versions_request on model_versions (model_id, request_id) where request_id is not null`.execute(db);
  await db.schema.createIndex("model_versions_run").on("model_versions").columns(["run_id"]).execute();

  await db.schema
    .createTable("model_files")
    .addColumn("version_id", "text", (c) => c.notNull().references("model_versions.id"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("model_files_pk", ["version_id", "path"])
    .execute();
  // The janitor asks whether anything still references a blob.
  await db.schema.createIndex("model_files_blob").on("model_files").columns(["org_id", "sha256"]).execute();

  await db.schema
    .createTable("model_aliases")
    .addColumn("model_id", "text", (c) => c.notNull().references("registered_models.id"))
    .addColumn("alias", "text", (c) => c.notNull())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("protected", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("model_aliases_pk", ["model_id", "alias"])
    .execute();

  await db.schema
    .createTable("model_alias_moves")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("model_id", "text", (c) => c.notNull().references("registered_models.id"))
    .addColumn("seq", "bigserial", (c) => c.notNull())
    .addColumn("alias", "text", (c) => c.notNull())
    .addColumn("from_version", "integer")
    .addColumn("to_version", "integer")
    .addColumn("user_id", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("key_id", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("model_alias_moves_alias").on("model_alias_moves").columns(["model_id", "alias", "seq"]).execute();
}
