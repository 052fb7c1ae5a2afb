/**
 * The PostgreSQL connection pool, built so that the database going away
 * (restart, failover, a proxy or pg_terminate_backend closing connections)
 * never takes the process down and is reported as an outage of the database:
 *
 * - every connection has an 'error' listener for its whole life. pg-pool
 *   listens only while a connection is idle, so one that dies while checked
 *   out (between two statements of a transaction, say) would otherwise emit
 *   an unhandled 'error' and crash the process; the statement it runs fails
 *   on its own, and the pool discards the dead connection at release.
 * - the pool's own 'error' event (an idle connection died) is handled: pg-pool
 *   has then already dropped it, and the next request opens a fresh one.
 * - errors raised by connect and query are marked as the database's, so the
 *   wire layer can tell the client which service is unreachable.
 */
import type { PostgresPool, PostgresPoolClient } from "kysely";
import pg from "pg";
import type { PostgresPoolConfig } from "../config.js";
import { markOrigin } from "../util/backend-origin.js";

const INT8_OID = 20;

/** Connections in the pool, for a gauge: open, idle among them, and requests waiting for one. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export type DbLogger = (message: string, error?: unknown) => void;

/** A pool for Kysely's PostgresDialect on `url`, and a reader of its stats. */
export function createPostgresPool(
  url: string,
  config: PostgresPoolConfig,
  parseInt8: (value: string) => number,
  log: DbLogger,
): { pool: PostgresPool; stats: () => PoolStats } {
  const pool = new pg.Pool({
    connectionString: url,
    max: config.size,
    // Also bounds the wait for a free connection when all `max` are busy.
    connectionTimeoutMillis: config.connectTimeoutMs,
    // Sent at connect (0 leaves the server's default); the server enforces them, so a
    // timed-out statement is cancelled there and the connection stays usable.
    statement_timeout: config.statementTimeoutMs,
    idle_in_transaction_session_timeout: config.idleInTransactionTimeoutMs,
    // Lets operators (and tests) tell our sessions apart in pg_stat_activity.
    application_name: "traintrack",
    // Detects a peer that vanished without closing the socket (a dead host, a dropped NAT entry).
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // No client-side query_timeout: when it fires, pg leaves the statement running on
  // the connection and later statements queue behind it. statement_timeout ends it.

  pool.on("connect", (client) => {
    client.on("error", (error) => log("database connection lost", markOrigin(error, "database")));
  });
  // Already logged by the connection's own listener above.
  pool.on("error", () => undefined);

  const fail = (error: unknown): never => {
    throw markOrigin(error, "database");
  };
  // Kysely keys its per-connection state by client object: hand out one wrapper per connection.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let wrapper = wrappers.get(client);
    if (!wrapper) {
      const query = ((...args: Parameters<pg.PoolClient["query"]>) => {
        const result: unknown = client.query(...args);
        return result instanceof Promise ? result.catch(fail) : result;
      }) as PostgresPoolClient["query"];
      wrapper = {
        query,
        // pg-pool gives the client a new release function at every checkout.
        release: (destroy?: boolean) => client.release(destroy),
        get processID() {
          return (client as { processID?: number }).processID;
        },
      };
      wrappers.set(client, wrapper);
    }
    return wrapper;
  };

  return {
    pool: {
      options: pool.options,
      connect: () => pool.connect().then(wrap, fail),
      end: () => pool.end(),
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}
