import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { CamelCasePlugin, Kysely, PGliteDialect, PostgresDialect } from "kysely";
import { Migrator } from "kysely/migration";
import pg from "pg";
import type { DatabaseConfig } from "../config.js";
import { migrationProvider } from "./migrations/index.js";
import type { Database } from "./schema.js";

const INT8_OID = 20;

// Sizes and counts are int8. pg returns them as strings and PGlite as numbers;
// parse them to numbers on both so the backends are interchangeable. Byte
// counts stay far below 2^53.
const parseInt8 = (value: string): number => Number(value);

/** Opens the configured database (PostgreSQL, or PGlite in-process) and migrates it to the latest schema. */
export async function createDb(config: DatabaseConfig): Promise<Kysely<Database>> {
  const dialect =
    config.kind === "postgres"
      ? new PostgresDialect({
          pool: new pg.Pool({
            connectionString: config.url,
            max: 20,
            types: {
              getTypeParser: ((oid: number, format?: "text" | "binary") =>
                oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
            },
          }),
        })
      : new PGliteDialect({ pglite: await openPglite(config.dataDir) });
  const db = new Kysely<Database>({ dialect, plugins: [new CamelCasePlugin()] });
  try {
    await migrate(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

async function openPglite(dataDir: string): Promise<PGlite> {
  await mkdir(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir, { parsers: { [INT8_OID]: parseInt8 } });
  await pglite.waitReady;
  return pglite;
}

/** Runs pending migrations; the Migrator takes a lock, so replicas starting together are safe. */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ""} failed`, { cause: error });
  }
}
