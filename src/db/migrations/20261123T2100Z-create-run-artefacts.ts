// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // What runs produced: one content per (run, path), pointing at a blob as dataset artefacts do.
  await db.schema
    .createTable("run_artefacts")
    .addColumn("run_id", "text", (c) => c.notNull().references("runs.id"))
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("upload_id", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("run_artefacts_pk", ["run_id", "path"])
    .execute();
  // The janitor asks "does anything reference this blob?".
  await db.schema.createIndex("run_artefacts_blob").on("run_artefacts").columns(["org_id", "sha256"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("run_artefacts").execute();
}
