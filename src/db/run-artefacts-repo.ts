/**
 * A run's artefacts. Each query takes a Kysely<Database> (db or transaction)
 * and is scoped to one organisation.
 */
import { type Kysely, sql } from "kysely";
import type { Database, RunArtefactRow } from "./schema.js";

export type NewRunArtefact = Omit<RunArtefactRow, "createdAt">;

/** The run's artefacts at these paths; absent paths are missing from the result. */
export async function findByPaths(db: Kysely<Database>, orgId: string, runId: string, paths: readonly string[]): Promise<RunArtefactRow[]> {
  const found: RunArtefactRow[] = [];
  for (let i = 0; i < paths.length; i += 1000) {
    const rows = await db
      .selectFrom("runArtefacts")
      .selectAll()
      .where("orgId", "=", orgId)
      .where("runId", "=", runId)
      .where("path", "in", paths.slice(i, i + 1000))
      .execute();
    found.push(...rows);
  }
  return found;
}

/** Inserts what is new; a path the run already has is left as it is. Returns how many rows were inserted. */
export async function insertNew(db: Kysely<Database>, rows: readonly NewRunArtefact[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insertInto("runArtefacts")
    .values([...rows])
    .onConflict((oc) => oc.columns(["runId", "path"]).doNothing())
    .returning("path")
    .execute();
  return inserted.length;
}

/** The run's artefacts by path, after `afterPath`, whose path starts with `prefix`. */
export async function list(
  db: Kysely<Database>,
  orgId: string,
  runId: string,
  opts: { prefix: string; afterPath: string | undefined; limit: number },
): Promise<RunArtefactRow[]> {
  let query = db.selectFrom("runArtefacts").selectAll().where("orgId", "=", orgId).where("runId", "=", runId).orderBy("path").limit(opts.limit);
  if (opts.prefix) query = query.where(sql<boolean>`starts_with(path, ${opts.prefix})`);
  if (opts.afterPath !== undefined) query = query.where("path", ">", opts.afterPath);
  return query.execute();
}
