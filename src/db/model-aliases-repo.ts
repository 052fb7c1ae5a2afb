/** Model aliases and the append-only history of their moves. */
import type { Kysely, Selectable } from "kysely";
import type { Database, ModelAliasesTable, ModelAliasMovesTable } from "./schema.js";

export type AliasRow = Pick<Selectable<ModelAliasesTable>, "alias" | "version" | "protected" | "updatedAt">;
export type AliasMoveRow = Selectable<ModelAliasMovesTable>;

export async function aliasesOf(db: Kysely<Database>, modelId: string): Promise<AliasRow[]> {
  return db.selectFrom("modelAliases").select(["alias", "version", "protected", "updatedAt"]).where("modelId", "=", modelId).orderBy("alias").execute();
}

/** Aliases by version, for the versions listed. */
export async function aliasesByVersion(db: Kysely<Database>, modelIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (modelIds.length === 0) return out;
  const rows = await db.selectFrom("modelAliases").select(["modelId", "alias", "version"]).where("modelId", "in", modelIds).orderBy("alias").execute();
  for (const r of rows) {
    const key = `${r.modelId}@${r.version}`;
    out.set(key, [...(out.get(key) ?? []), r.alias]);
  }
  return out;
}

export async function countAliases(db: Kysely<Database>, modelId: string): Promise<number> {
  const row = await db.selectFrom("modelAliases").select((eb) => eb.fn.countAll<number>().as("n")).where("modelId", "=", modelId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findAlias(db: Kysely<Database>, modelId: string, alias: string): Promise<AliasRow | undefined> {
  return db.selectFrom("modelAliases").select(["alias", "version", "protected", "updatedAt"]).where("modelId", "=", modelId).where("alias", "=", alias).executeTakeFirst();
}

export async function upsertAlias(db: Kysely<Database>, row: { modelId: string; orgId: string; alias: string; version: number; protected: boolean; updatedAt: Date }): Promise<void> {
  await db
    .insertInto("modelAliases")
    .values(row)
    .onConflict((oc) => oc.columns(["modelId", "alias"]).doUpdateSet({ version: row.version, protected: row.protected, updatedAt: row.updatedAt }))
    .execute();
}

export async function deleteAlias(db: Kysely<Database>, modelId: string, alias: string): Promise<void> {
  await db.deleteFrom("modelAliases").where("modelId", "=", modelId).where("alias", "=", alias).execute();
}

export async function insertMove(db: Kysely<Database>, move: Omit<AliasMoveRow, "seq">): Promise<void> {
  await db.insertInto("modelAliasMoves").values(move).execute();
}

/** Moves newest first (by the order they were made in). */
export async function listMoves(db: Kysely<Database>, modelId: string, f: { alias?: string; beforeSeq?: number; limit: number }): Promise<AliasMoveRow[]> {
  let q = db.selectFrom("modelAliasMoves").selectAll().where("modelId", "=", modelId);
  if (f.alias) q = q.where("alias", "=", f.alias);
  if (f.beforeSeq !== undefined) q = q.where("seq", "<", f.beforeSeq);
  return q.orderBy("seq", "desc").limit(f.limit).execute();
}

/** The version an alias pointed to at `at`: the last move made at or before it (undefined: none, or deleted). */
export async function versionAt(db: Kysely<Database>, modelId: string, alias: string, at: Date): Promise<number | undefined> {
  const row = await db
    .selectFrom("modelAliasMoves")
    .select("toVersion")
    .where("modelId", "=", modelId)
    .where("alias", "=", alias)
    .where("at", "<=", at)
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  return row?.toVersion ?? undefined;
}
