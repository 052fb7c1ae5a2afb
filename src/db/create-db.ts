import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { CamelCasePlugin, Kysely, PGliteDialect, PostgresDialect, sql } from "kysely";
import { Migrator } from "kysely/migration";
import type { DatabaseConfig } from "../config.js";
import { migrationProvider } from "./migrations/index.js";
import { type Notifications, pgliteNotifications, postgresNotifications } from "./notifications.js";
import { createPostgresPool, type DbLogger, type PoolStats } from "./postgres-pool.js";
import type { Database } from "./schema.js";

export type { PoolStats } from "./postgres-pool.js";

const INT8_OID = 20;

// Sizes and counts are int8. pg returns them as strings and PGlite as numbers;
// parse them to numbers on both so the backends are interchangeable. Byte
// counts stay far below 2^53.
const parseInt8 = (value: string): number => Number(value);

export interface OpenDb {
  db: Kysely<Database>;
  /** The PostgreSQL pool's connections (undefined on PGlite, which has none): for a metric. */
  poolStats: (() => PoolStats) | undefined;
  /** LISTEN/NOTIFY on the same database. */
  notifications: Notifications;
}

export interface CreateDbOptions {
  /** Where lost connections are reported; they never stop the process. */
  log?: DbLogger;
}

/** Opens the configured database (PostgreSQL, or PGlite in-process) and migrates it to the latest schema. */
export async function createDb(config: DatabaseConfig, opts: CreateDbOptions = {}): Promise<OpenDb> {
  const log = opts.log ?? ((message: string, error?: unknown) => console.error(message, error ?? ""));
  let poolStats: OpenDb["poolStats"];
  let dialect: PostgresDialect | PGliteDialect;
  let notifications: Notifications;
  if (config.kind === "postgres") {
    const { pool, stats } = createPostgresPool(config.url, config.pool, parseInt8, log);
    dialect = new PostgresDialect({ pool });
    poolStats = stats;
    notifications = postgresNotifications(config.url, log);
  } else {
    const pglite = await openPglite(config.dataDir);
    dialect = new PGliteDialect({ pglite });
    notifications = pgliteNotifications(pglite);
  }
  const db = new Kysely<Database>({ dialect, plugins: [new CamelCasePlugin()] });
  try {
    await migrate(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, poolStats, notifications };
}

async function openPglite(dataDir: string): Promise<PGlite> {
  await mkdir(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir, { parsers: { [INT8_OID]: parseInt8 } });
  await pglite.waitReady;
  return pglite;
}

/**
 * Runs pending migrations; the Migrator takes a lock, so replicas starting together are safe.
 * They run on one connection without the statement and idle-in-transaction timeouts: a
 * migration may rewrite a large table, and a replica may wait on another's migration lock.
 */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const { error, results } = await db.connection().execute(async (conn) => {
    await sql`set statement_timeout = 0`.execute(conn);
    await sql`set idle_in_transaction_session_timeout = 0`.execute(conn);
    try {
      return await new Migrator({ db: conn, provider: migrationProvider }).migrateToLatest();
    } finally {
      // Back to the values the connection was opened with, before the pool reuses it.
      await sql`reset statement_timeout`.execute(conn).catch(() => undefined);
      await sql`reset idle_in_transaction_session_timeout`.execute(conn).catch(() => undefined);
    }
  });
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ""} failed`, { cause: error });
  }
}
