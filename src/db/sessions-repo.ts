/** Web UI sessions (browser_sessions): each found by its token's hash, acting with one API key. */
import type { Kysely, Selectable } from "kysely";
import type { BrowserSessionsTable, Database } from "./schema.js";

export type SessionRow = Selectable<BrowserSessionsTable>;

/** A session with the hash of the key it acts with. */
export type SessionWithKey = SessionRow & { keyHash: string };

export async function insertSession(db: Kysely<Database>, row: SessionRow): Promise<void> {
  await db.insertInto("browserSessions").values(row).execute();
}

/** The session whose token hashes to `tokenHash`, with its key's hash; revoked keys included (the authenticator decides). */
export async function findSession(db: Kysely<Database>, tokenHash: string): Promise<SessionWithKey | undefined> {
  return db
    .selectFrom("browserSessions as s")
    .innerJoin("apiKeys as k", "k.id", "s.keyId")
    .selectAll("s")
    .select("k.keyHash")
    .where("s.tokenHash", "=", tokenHash)
    .executeTakeFirst();
}

/** Slides a session's idle expiry. */
export async function touchSession(db: Kysely<Database>, id: string, at: Date): Promise<void> {
  await db.updateTable("browserSessions").set({ lastSeenAt: at }).where("id", "=", id).execute();
}

/** Deletes a session; whether it existed. */
export async function deleteSession(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db.deleteFrom("browserSessions").where("id", "=", id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Deletes up to `limit` sessions past their absolute end or idle since before
 * `idleBefore`. Bounded, and any number of replicas may run it at once: each
 * deletes what is still there.
 */
export async function deleteExpired(db: Kysely<Database>, at: Date, idleBefore: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom("browserSessions")
    .where("id", "in", (eb) =>
      eb
        .selectFrom("browserSessions")
        .select("id")
        .where((w) => w.or([w("expiresAt", "<=", at), w("lastSeenAt", "<=", idleBefore)]))
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Deletes a key's sessions beyond its newest `keep`: one key cannot pile up sessions without end. */
export async function trimSessionsOfKey(db: Kysely<Database>, keyId: string, keep: number): Promise<void> {
  await db
    .deleteFrom("browserSessions")
    .where("keyId", "=", keyId)
    .where("id", "not in", (eb) => eb.selectFrom("browserSessions").select("id").where("keyId", "=", keyId).orderBy("createdAt", "desc").orderBy("id").limit(keep))
    .execute();
}
