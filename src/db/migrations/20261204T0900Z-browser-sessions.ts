// Frozen in time: never import application code here, never edit after it has shipped.
import type { Kysely } from "kysely";

/**
 * The web UI's sign-in sessions: a browser's cookie stands for an API key.
 * Only the SHA-256 of the session token is kept. A session names its key, and
 * every request resolves that key again, so revoking it (or deactivating its
 * user) ends the session at once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("browser_sessions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("org_id", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull().references("api_keys.id"))
    .addColumn("csrf_token", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("last_seen_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("browser_sessions_key").on("browser_sessions").columns(["key_id", "created_at"]).execute();
  await db.schema.createIndex("browser_sessions_seen").on("browser_sessions").columns(["last_seen_at"]).execute();
  await db.schema.createIndex("browser_sessions_expiry").on("browser_sessions").columns(["expires_at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("browser_sessions").execute();
}
