// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("organizations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("key_hash", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("revoked_at", "timestamptz")
    .execute();

  await db.schema
    .createTable("uploads")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("file_name", "text", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("declared_size", "bigint")
    .addColumn("declared_sha256", "text")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("bytes_received", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("segment_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("sha256", "text")
    .addColumn("discard_reason", "text")
    .addColumn("writer_token", "text")
    .addColumn("writer_lease_until", "timestamptz")
    .addColumn("stored_as_blob", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("staging_purged", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  // The janitor's scans: expired uploads, and finished ones whose staging is not yet purged.
  await db.schema.createIndex("uploads_expiry").on("uploads").columns(["state", "expires_at"]).execute();
  await db.schema
    .createIndex("uploads_unpurged")
    .on("uploads")
    .columns(["state"])
    .where(sql.ref("staging_purged"), "=", false)
    .execute();

  await db.schema
    .createTable("datasets")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("datasets_org_name", ["org_id", "name"])
    .execute();

  await db.schema
    .createTable("dataset_versions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("dataset_id", "text", (c) => c.notNull().references("datasets.id"))
    .addColumn("seq", "bigserial", (c) => c.notNull())
    .addColumn("version", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("metadata", "jsonb", (c) => c.notNull())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("total_size", "bigint", (c) => c.notNull())
    .addColumn("artefact_count", "integer", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("dataset_versions_dataset_version", ["dataset_id", "version"])
    .execute();
  await db.schema.createIndex("dataset_versions_latest").on("dataset_versions").columns(["dataset_id", "seq"]).execute();

  await db.schema
    .createTable("artefacts")
    .addColumn("version_id", "text", (c) => c.notNull().references("dataset_versions.id"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("upload_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("artefacts_pk", ["version_id", "path"])
    .execute();
  // The janitor asks "does anything reference this blob?".
  await db.schema.createIndex("artefacts_blob").on("artefacts").columns(["org_id", "sha256"]).execute();

  await db.schema
    .createTable("lineage_edges")
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("parent_id", "text", (c) => c.notNull().references("dataset_versions.id"))
    .addColumn("child_id", "text", (c) => c.notNull().references("dataset_versions.id"))
    .addPrimaryKeyConstraint("lineage_edges_pk", ["parent_id", "child_id"])
    .execute();
  await db.schema.createIndex("lineage_edges_child").on("lineage_edges").columns(["child_id"]).execute();

  await db.schema
    .createTable("blobs")
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("lease_until", "timestamptz", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("blobs_pk", ["org_id", "sha256"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["blobs", "lineage_edges", "artefacts", "dataset_versions", "datasets", "uploads", "api_keys", "organizations"]) {
    await db.schema.dropTable(table).execute();
  }
}
