/**
 * A run's tags, params and inputs (the dataset versions it read). Each query
 * takes a Kysely<Database> (db or transaction) and is scoped to one organisation.
 */
import type { Kysely } from "kysely";
import type { VersionKey } from "./datasets-repo.js";
import type { Database } from "./schema.js";

export type EntryTable = "runTags" | "runParams";

/**
 * Writes key/value entries of a run. `onExisting: "overwrite"` replaces the
 * values of keys that exist (tags); "keep" leaves them (params, set once).
 */
export async function writeEntries(
  db: Kysely<Database>,
  table: EntryTable,
  orgId: string,
  runId: string,
  entries: [string, string][],
  onExisting: "overwrite" | "keep",
): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto(table)
    .values(entries.map(([key, value]) => ({ runId, orgId, key, value })))
    .onConflict((oc) => {
      const target = oc.columns(["runId", "key"]);
      return onExisting === "overwrite" ? target.doUpdateSet((eb) => ({ value: eb.ref("excluded.value") })) : target.doNothing();
    })
    .execute();
}

export async function deleteEntries(db: Kysely<Database>, table: EntryTable, orgId: string, runId: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.deleteFrom(table).where("orgId", "=", orgId).where("runId", "=", runId).where("key", "in", keys).execute();
}

/** How many entries the run has. */
export async function countEntries(db: Kysely<Database>, table: EntryTable, orgId: string, runId: string): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("orgId", "=", orgId)
    .where("runId", "=", runId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** How many dataset versions the run read. */
export async function countInputs(db: Kysely<Database>, orgId: string, runId: string): Promise<number> {
  const row = await db
    .selectFrom("runInputs")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("orgId", "=", orgId)
    .where("runId", "=", runId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Entries of each run, by run id; runs without any are absent. */
export async function entriesOf(
  db: Kysely<Database>,
  table: EntryTable,
  orgId: string,
  runIds: readonly string[],
): Promise<Map<string, Record<string, string>>> {
  const byRun = new Map<string, Record<string, string>>();
  if (runIds.length === 0) return byRun;
  const rows = await db
    .selectFrom(table)
    .select(["runId", "key", "value"])
    .where("orgId", "=", orgId)
    .where("runId", "in", runIds)
    .execute();
  for (const row of rows) {
    const entries = byRun.get(row.runId) ?? {};
    entries[row.key] = row.value;
    byRun.set(row.runId, entries);
  }
  return byRun;
}

export async function insertInputs(db: Kysely<Database>, orgId: string, runId: string, versionIds: string[]): Promise<void> {
  if (versionIds.length === 0) return;
  await db
    .insertInto("runInputs")
    .values(versionIds.map((versionId) => ({ runId, orgId, versionId })))
    .onConflict((oc) => oc.columns(["runId", "versionId"]).doNothing())
    .execute();
}

/** The dataset versions each run read, by name and version. */
export async function inputsOf(db: Kysely<Database>, orgId: string, runIds: readonly string[]): Promise<Map<string, VersionKey[]>> {
  const byRun = new Map<string, VersionKey[]>();
  if (runIds.length === 0) return byRun;
  const rows = await db
    .selectFrom("runInputs as i")
    .innerJoin("datasetVersions as v", "v.id", "i.versionId")
    .innerJoin("datasets as d", "d.id", "v.datasetId")
    .select(["i.runId", "d.name", "v.version"])
    .where("i.orgId", "=", orgId)
    .where("i.runId", "in", runIds)
    .orderBy("d.name")
    .orderBy("v.version")
    .execute();
  for (const row of rows) {
    const list = byRun.get(row.runId) ?? [];
    list.push({ name: row.name, version: row.version });
    byRun.set(row.runId, list);
  }
  return byRun;
}
