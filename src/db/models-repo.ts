/** Registered models, their versions and files. (Aliases: model-aliases-repo.ts.) */
import { type Kysely, type Selectable, sql } from "kysely";
import type { Database, ModelVersionsTable, RegisteredModelsTable } from "./schema.js";

export type ModelRow = Selectable<RegisteredModelsTable>;
export type ModelVersionRow = Selectable<ModelVersionsTable> & { model: string };
export interface ModelFileRow {
  path: string;
  sha256: string;
  size: number;
  mediaType: string;
}

export async function findModel(db: Kysely<Database>, orgId: string, name: string): Promise<ModelRow | undefined> {
  return db.selectFrom("registeredModels").selectAll().where("orgId", "=", orgId).where("name", "=", name).executeTakeFirst();
}

/** Locks the model's row: versions are numbered and aliases moved one at a time per model. */
export async function lockModel(db: Kysely<Database>, orgId: string, name: string): Promise<ModelRow | undefined> {
  return db.selectFrom("registeredModels").selectAll().where("orgId", "=", orgId).where("name", "=", name).forUpdate().executeTakeFirst();
}

/** Inserts a model unless one by that name exists; returns the one that exists afterwards. */
export async function ensureModel(
  db: Kysely<Database>,
  row: { id: string; orgId: string; name: string; projectId: string | null; description: string; tags: Record<string, string> },
): Promise<ModelRow> {
  await db
    .insertInto("registeredModels")
    .values({ ...row, tags: JSON.stringify(row.tags) })
    .onConflict((oc) => oc.columns(["orgId", "name"]).doNothing())
    .execute();
  const found = await findModel(db, row.orgId, row.name);
  if (!found) throw new Error(`model "${row.name}" vanished right after its insert`);
  return found;
}

export async function listModels(
  db: Kysely<Database>,
  orgId: string,
  f: { projectId?: string; projectIds?: string[]; prefix: string; afterName?: string; limit: number },
): Promise<ModelRow[]> {
  let q = db.selectFrom("registeredModels").selectAll().where("orgId", "=", orgId);
  if (f.projectId) q = q.where("projectId", "=", f.projectId);
  if (f.projectIds) q = f.projectIds.length === 0 ? q.where(sql<boolean>`false`) : q.where("projectId", "in", f.projectIds);
  if (f.prefix) q = q.where(sql<boolean>`starts_with(name, ${f.prefix})`);
  if (f.afterName !== undefined) q = q.where("name", ">", f.afterName);
  return q.orderBy("name").limit(f.limit).execute();
}

export async function updateModel(db: Kysely<Database>, id: string, changes: { description?: string; tags?: Record<string, string>; latestVersion?: number }, at: Date): Promise<void> {
  const { tags, ...rest } = changes;
  await db
    .updateTable("registeredModels")
    .set({ ...rest, ...(tags ? { tags: JSON.stringify(tags) } : {}), updatedAt: at })
    .where("id", "=", id)
    .execute();
}

function versions(db: Kysely<Database>) {
  return db.selectFrom("modelVersions as v").innerJoin("registeredModels as m", "m.id", "v.modelId").selectAll("v").select("m.name as model");
}

export async function findVersion(db: Kysely<Database>, modelId: string, version: number): Promise<ModelVersionRow | undefined> {
  return versions(db).where("v.modelId", "=", modelId).where("v.version", "=", version).executeTakeFirst();
}

export async function findVersionByRequest(db: Kysely<Database>, modelId: string, requestId: string): Promise<ModelVersionRow | undefined> {
  return versions(db).where("v.modelId", "=", modelId).where("v.requestId", "=", requestId).executeTakeFirst();
}

/** Newest first. */
export async function listVersions(db: Kysely<Database>, modelId: string, beforeVersion: number | undefined, limit: number): Promise<ModelVersionRow[]> {
  let q = versions(db).where("v.modelId", "=", modelId);
  if (beforeVersion !== undefined) q = q.where("v.version", "<", beforeVersion);
  return q.orderBy("v.version", "desc").limit(limit).execute();
}

export interface NewVersion {
  id: string;
  orgId: string;
  modelId: string;
  version: number;
  runId: string | null;
  fromRunArtefacts: boolean;
  framework: string;
  signature: string;
  description: string;
  tags: Record<string, string>;
  requestId: string | null;
  fingerprint: string;
  createdBy: string;
}

/** Inserts a version with no files yet (file_count and total_size 0): the caller adds them and calls setVersionTotals. */
export async function insertVersion(db: Kysely<Database>, v: NewVersion): Promise<void> {
  await db
    .insertInto("modelVersions")
    .values({ ...v, tags: JSON.stringify(v.tags), fileCount: 0, totalSize: 0 })
    .execute();
}

export async function setVersionTotals(db: Kysely<Database>, versionId: string): Promise<{ fileCount: number; totalSize: number }> {
  const totals = await db
    .selectFrom("modelFiles")
    .select((eb) => [eb.fn.countAll<number>().as("fileCount"), eb.fn.coalesce(eb.fn.sum<number>("size"), sql<number>`0`).as("totalSize")])
    .where("versionId", "=", versionId)
    .executeTakeFirstOrThrow();
  const fileCount = Number(totals.fileCount);
  const totalSize = Number(totals.totalSize);
  await db.updateTable("modelVersions").set({ fileCount, totalSize }).where("id", "=", versionId).execute();
  return { fileCount, totalSize };
}

export async function updateVersion(db: Kysely<Database>, versionId: string, changes: { description?: string; tags?: Record<string, string> }): Promise<void> {
  const { tags, description } = changes;
  if (tags === undefined && description === undefined) return;
  await db
    .updateTable("modelVersions")
    .set({ ...(description !== undefined ? { description } : {}), ...(tags ? { tags: JSON.stringify(tags) } : {}) })
    .where("id", "=", versionId)
    .execute();
}

/**
 * Registers a run's artefacts under `prefix` as the files of a version, with
 * the prefix cut from their paths: rows naming the same blobs, no byte copied.
 */
export async function insertFilesFromRun(db: Kysely<Database>, versionId: string, orgId: string, runId: string, prefix: string): Promise<void> {
  await sql`
    insert into model_files (version_id, org_id, path, sha256, size, media_type)
    select ${versionId}, org_id, substr(path, ${prefix.length + 1}), sha256, size, media_type
    from run_artefacts
    where org_id = ${orgId} and run_id = ${runId} and starts_with(path, ${prefix}) and length(path) > ${prefix.length}`.execute(db);
}

/** How many artefacts of a run lie under `prefix`, and their paths' fingerprint material (path, sha256), at most `limit`. */
export async function runFilesUnder(db: Kysely<Database>, orgId: string, runId: string, prefix: string, limit: number): Promise<{ path: string; sha256: string }[]> {
  return db
    .selectFrom("runArtefacts")
    .select(["path", "sha256"])
    .where("orgId", "=", orgId)
    .where("runId", "=", runId)
    .where(sql<boolean>`starts_with(path, ${prefix}) and length(path) > ${prefix.length}`)
    .orderBy("path")
    .limit(limit)
    .execute();
}

export async function insertFiles(db: Kysely<Database>, versionId: string, orgId: string, files: ModelFileRow[]): Promise<void> {
  for (let i = 0; i < files.length; i += 1000) {
    await db
      .insertInto("modelFiles")
      .values(files.slice(i, i + 1000).map((f) => ({ ...f, versionId, orgId })))
      .execute();
  }
}

export async function listFiles(db: Kysely<Database>, versionId: string, f: { prefix: string; afterPath?: string; limit: number }): Promise<ModelFileRow[]> {
  let q = db.selectFrom("modelFiles").select(["path", "sha256", "size", "mediaType"]).where("versionId", "=", versionId);
  if (f.prefix) q = q.where(sql<boolean>`starts_with(path, ${f.prefix})`);
  if (f.afterPath !== undefined) q = q.where("path", ">", f.afterPath);
  return q.orderBy("path").limit(f.limit).execute();
}

export async function findFile(db: Kysely<Database>, versionId: string, path: string): Promise<ModelFileRow | undefined> {
  return db.selectFrom("modelFiles").select(["path", "sha256", "size", "mediaType"]).where("versionId", "=", versionId).where("path", "=", path).executeTakeFirst();
}
