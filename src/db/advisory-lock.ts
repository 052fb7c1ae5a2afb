/**
 * Single-flight across every process on one PostgreSQL database.
 *
 * A session-level advisory lock on a connection held for the whole run, not a
 * transaction-level one: the run does object-storage I/O for up to a minute,
 * and a transaction open that long would pin the vacuum horizon and be cut
 * off by idle_in_transaction_session_timeout. A session lock lives exactly as
 * long as its connection; if that connection breaks, the server releases the
 * lock and another process may start, so `stillHeld` (called before anything
 * destructive) fails and the run stops. (Session locks need a direct
 * connection or a session-mode pooler, not a transaction-mode one.)
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.js";

/** Two int4 keys (pg_locks shows them as classid, objid): a namespace for Traintrack and the job within it. */
export interface AdvisoryKey {
  space: number;
  job: number;
}

/** Throws unless the lock is still held (its connection alive); called between steps of the guarded run. */
export type StillHeld = () => Promise<void>;

/** Runs `fn` holding the lock, or returns undefined at once when another session holds it. */
export async function withAdvisoryLock<T>(db: Kysely<Database>, key: AdvisoryKey, fn: (stillHeld: StillHeld) => Promise<T>): Promise<T | undefined> {
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${key.space}::int4, ${key.job}::int4) as locked`.execute(conn);
    if (!rows[0]?.locked) return undefined;
    const stillHeld: StillHeld = async () => {
      const { rows: held } = await sql<{ held: boolean }>`
        select exists (
          select 1 from pg_locks
          where locktype = 'advisory' and pid = pg_backend_pid() and granted
            and classid = ${key.space}::int4::oid and objid = ${key.job}::int4::oid and objsubid = 2
        ) as held`.execute(conn);
      if (!held[0]?.held) throw new Error(`advisory lock ${key.space}/${key.job} was lost`);
    };
    try {
      return await fn(stillHeld);
    } finally {
      // A broken connection has released the lock with its session already.
      await sql`select pg_advisory_unlock(${key.space}::int4, ${key.job}::int4)`.execute(conn).catch(() => undefined);
    }
  });
}

/**
 * Takes a transaction-level advisory lock on (space, hash of `name`), released
 * when `trx` ends: serialises short changes to one thing (an organisation's
 * access, a pipeline run's graph) across every process on the database.
 */
export async function lockInTransaction(trx: Kysely<Database>, space: number, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${space}::int4, hashtext(${name}))`.execute(trx);
}
