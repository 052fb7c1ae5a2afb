// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

// Where a blob's bytes are becomes a database fact instead of a function of
// its hash: an upload now writes its bytes once, at a key of its own (the
// parts of one multipart upload), and a commit points the blob row at it.
// Blobs stored before this migration stay where they are, at the key their
// hash gave them (`blobs/<org>/sha256/<first two>/<hash>`), and are recorded
// as such: nothing is copied.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("blobs").addColumn("physical_key", "text").execute();
  await sql`update blobs set physical_key = 'blobs/' || org_id || '/sha256/' || substr(sha256, 1, 2) || '/' || sha256`.execute(db);
  await db.schema.alterTable("blobs").alterColumn("physical_key", (c) => c.setNotNull()).execute();
  // The object an upload writes (null: staged before, in separate segment objects) and,
  // while it is written, the handle of its multipart upload (so any replica can add to it,
  // complete it, or abort it).
  await db.schema.alterTable("uploads").addColumn("object_key", "text").addColumn("parts_handle", "text").execute();
  // Each recorded segment is a part of that object; its etag is checked when the parts are
  // completed, so a stale writer's part is never part of an object.
  await db.schema.alterTable("upload_segments").addColumn("etag", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("upload_segments").dropColumn("etag").execute();
  await db.schema.alterTable("uploads").dropColumn("parts_handle").dropColumn("object_key").execute();
  await db.schema.alterTable("blobs").dropColumn("physical_key").execute();
}
