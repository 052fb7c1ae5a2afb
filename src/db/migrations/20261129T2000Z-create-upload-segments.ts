// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // Each durable segment of a staged upload: where its bytes are (the key carries the writer's
  // token, so a stale writer never overwrites it) and the SHA-256 state after its last byte
  // (so a resume hashes only what is left).
  await db.schema
    .createTable("upload_segments")
    .addColumn("upload_id", "text", (c) => c.notNull().references("uploads.id").onDelete("cascade"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("object_key", "text", (c) => c.notNull())
    .addColumn("hash_state", "bytea", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("upload_segments_pk", ["upload_id", "seq"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("upload_segments").execute();
}
