/**
 * Queries over datasets, versions, artefacts and lineage. Each takes a
 * Kysely<Database> so it runs in or out of a transaction, and every query is
 * scoped to one organisation.
 */
import { type Kysely, sql } from "kysely";
import type { ArtefactRow, Database, DatasetVersionRow } from "./schema.js";

export interface VersionKey {
  name: string;
  version: string;
}

export type VersionWithName = DatasetVersionRow & { name: string };

function versions(db: Kysely<Database>, orgId: string) {
  return db
    .selectFrom("datasetVersions as v")
    .innerJoin("datasets as d", "d.id", "v.datasetId")
    .selectAll("v")
    .select("d.name")
    .where("v.orgId", "=", orgId);
}

/** One version by name and version, or the latest (highest commit order) when `version` is empty. */
export async function findVersion(db: Kysely<Database>, orgId: string, key: VersionKey): Promise<VersionWithName | undefined> {
  let query = versions(db, orgId).where("d.name", "=", key.name);
  query = key.version ? query.where("v.version", "=", key.version) : query.orderBy("v.seq", "desc").limit(1);
  return query.executeTakeFirst();
}

/** Versions by (name, version) pairs; absent pairs are simply missing from the result. */
export async function findVersions(db: Kysely<Database>, orgId: string, keys: readonly VersionKey[]): Promise<VersionWithName[]> {
  if (keys.length === 0) return [];
  return versions(db, orgId)
    .where((eb) => eb.or(keys.map((k) => eb.and([eb("d.name", "=", k.name), eb("v.version", "=", k.version)]))))
    .execute();
}

export async function versionsByIds(db: Kysely<Database>, orgId: string, ids: readonly string[]): Promise<VersionWithName[]> {
  if (ids.length === 0) return [];
  return versions(db, orgId).where("v.id", "in", ids).execute();
}

export async function listArtefacts(db: Kysely<Database>, orgId: string, versionId: string): Promise<ArtefactRow[]> {
  return db.selectFrom("artefacts").selectAll().where("orgId", "=", orgId).where("versionId", "=", versionId).orderBy("path").execute();
}

export async function findArtefact(db: Kysely<Database>, orgId: string, versionId: string, path: string): Promise<ArtefactRow | undefined> {
  return db
    .selectFrom("artefacts")
    .selectAll()
    .where("orgId", "=", orgId)
    .where("versionId", "=", versionId)
    .where("path", "=", path)
    .executeTakeFirst();
}

/** Parents of each version, by name, for `derived_from`. */
export async function parentsOf(db: Kysely<Database>, orgId: string, childIds: readonly string[]): Promise<Map<string, VersionKey[]>> {
  const parents = new Map<string, VersionKey[]>();
  if (childIds.length === 0) return parents;
  const rows = await db
    .selectFrom("lineageEdges as e")
    .innerJoin("datasetVersions as v", "v.id", "e.parentId")
    .innerJoin("datasets as d", "d.id", "v.datasetId")
    .select(["e.childId", "d.name", "v.version"])
    .where("e.orgId", "=", orgId)
    .where("e.childId", "in", childIds)
    .orderBy("d.name")
    .orderBy("v.version")
    .execute();
  for (const row of rows) {
    const list = parents.get(row.childId) ?? [];
    list.push({ name: row.name, version: row.version });
    parents.set(row.childId, list);
  }
  return parents;
}

export interface DatasetListing {
  name: string;
  description: string;
  latestVersion: string;
  versionCount: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Datasets by name, after `afterName`, whose name starts with `prefix`. */
export async function listDatasets(
  db: Kysely<Database>,
  orgId: string,
  opts: { prefix: string; afterName: string | undefined; limit: number },
): Promise<DatasetListing[]> {
  let query = db
    .selectFrom("datasets as d")
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom("datasetVersions as v")
          .select(["v.version", "v.description", "v.createdAt"])
          .whereRef("v.datasetId", "=", "d.id")
          .orderBy("v.seq", "desc")
          .limit(1)
          .as("latest"),
      (join) => join.onTrue(),
    )
    .select((eb) => [
      "d.name",
      "d.createdAt",
      "latest.version as latestVersion",
      "latest.description",
      "latest.createdAt as updatedAt",
      eb
        .selectFrom("datasetVersions as c")
        .select(sql<number>`count(*)::int`.as("n"))
        .whereRef("c.datasetId", "=", "d.id")
        .as("versionCount"),
    ])
    .where("d.orgId", "=", orgId)
    .orderBy("d.name")
    .limit(opts.limit);
  if (opts.prefix) query = query.where(sql<boolean>`starts_with(d.name, ${opts.prefix})`);
  if (opts.afterName !== undefined) query = query.where("d.name", ">", opts.afterName);
  const rows = await query.execute();
  return rows.map((r) => ({ ...r, versionCount: Number(r.versionCount ?? 0) }));
}

/** Versions of one dataset, newest first, with commit order below `beforeSeq`. */
export async function listVersions(
  db: Kysely<Database>,
  orgId: string,
  opts: { name: string; beforeSeq: number | undefined; limit: number },
): Promise<VersionWithName[]> {
  let query = versions(db, orgId).where("d.name", "=", opts.name).orderBy("v.seq", "desc").limit(opts.limit);
  if (opts.beforeSeq !== undefined) query = query.where("v.seq", "<", opts.beforeSeq);
  return query.execute();
}

export async function datasetExists(db: Kysely<Database>, orgId: string, name: string): Promise<boolean> {
  const row = await db.selectFrom("datasets").select("id").where("orgId", "=", orgId).where("name", "=", name).executeTakeFirst();
  return row !== undefined;
}

/**
 * Edges reachable from `startId` following lineage up (ancestors) or down
 * (descendants), at most `depth` generations away.
 */
export async function lineageEdges(
  db: Kysely<Database>,
  orgId: string,
  startId: string,
  direction: "ancestors" | "descendants",
  depth: number,
): Promise<{ parentId: string; childId: string }[]> {
  const [from, to] = direction === "ancestors" ? (["child_id", "parent_id"] as const) : (["parent_id", "child_id"] as const);
  const result = await sql<{ parentId: string; childId: string }>`
    with recursive walk(parent_id, child_id, depth) as (
      select parent_id, child_id, 1 from lineage_edges
        where org_id = ${orgId} and ${sql.ref(from)} = ${startId}
      union
      select e.parent_id, e.child_id, w.depth + 1 from lineage_edges e
        join walk w on e.${sql.ref(from)} = w.${sql.ref(to)}
        where e.org_id = ${orgId} and w.depth < ${depth}
    )
    select distinct parent_id, child_id from walk`.execute(db);
  return result.rows;
}
