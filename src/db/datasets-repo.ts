/**
 * Queries over datasets, versions, artefacts and lineage. Each takes a
 * Kysely<Database> so it runs in or out of a transaction, and every query is
 * scoped to one organisation.
 */
import { type Kysely, sql } from "kysely";
import { textArray } from "./pg-arrays.js";
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

/** Versions by id; one array parameter however many ids (a lineage graph holds thousands). */
export async function versionsByIds(db: Kysely<Database>, orgId: string, ids: readonly string[]): Promise<VersionWithName[]> {
  if (ids.length === 0) return [];
  return versions(db, orgId).where("v.id", "=", anyText(ids)).execute();
}

/** A version's artefacts by path, after `afterPath`, whose path starts with `prefix`; at most `limit`. */
export async function listArtefacts(
  db: Kysely<Database>,
  orgId: string,
  versionId: string,
  opts: { prefix: string; afterPath: string | undefined; limit: number },
): Promise<ArtefactRow[]> {
  let query = db.selectFrom("artefacts").selectAll().where("orgId", "=", orgId).where("versionId", "=", versionId).orderBy("path").limit(opts.limit);
  if (opts.prefix) query = query.where(sql<boolean>`starts_with(path, ${opts.prefix})`);
  if (opts.afterPath !== undefined) query = query.where("path", ">", opts.afterPath);
  return query.execute();
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

export interface Parents {
  /** The first parents by name and version, at most the limit asked for. */
  refs: VersionKey[];
  /** How many parents the version has. */
  total: number;
}

/** Parents of each version, by name, for `derived_from`: the first `perVersion` of each, and their count. */
export async function parentsOf(db: Kysely<Database>, orgId: string, childIds: readonly string[], perVersion: number): Promise<Map<string, Parents>> {
  const parents = new Map<string, Parents>();
  if (childIds.length === 0) return parents;
  const result = await sql<{ childId: string; name: string; version: string; total: number }>`
    select child_id, name, version, total from (
      select e.child_id, d.name, v.version,
        row_number() over (partition by e.child_id order by d.name, v.version) as n,
        count(*) over (partition by e.child_id)::int as total
      from lineage_edges e
        join dataset_versions v on v.id = e.parent_id
        join datasets d on d.id = v.dataset_id
      where e.org_id = ${orgId} and e.child_id = any(${textArray(childIds)}::text[])
    ) p where n <= ${perVersion} order by child_id, n`.execute(db);
  for (const row of result.rows) {
    const entry = parents.get(row.childId) ?? { refs: [], total: Number(row.total) };
    entry.refs.push({ name: row.name, version: row.version });
    parents.set(row.childId, entry);
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
 * One generation of lineage: the edges to the parents (ancestors) or the
 * children (descendants) of `ids`, ordered, at most `limit`. The ids go as
 * one array parameter, so a generation of any width is one statement.
 */
export async function lineageStep(
  db: Kysely<Database>,
  orgId: string,
  ids: readonly string[],
  direction: "ancestors" | "descendants",
  limit: number,
): Promise<{ parentId: string; childId: string }[]> {
  if (ids.length === 0) return [];
  const [from, to] = direction === "ancestors" ? (["child_id", "parent_id"] as const) : (["parent_id", "child_id"] as const);
  const result = await sql<{ parentId: string; childId: string }>`
    select parent_id, child_id from lineage_edges
      where org_id = ${orgId} and ${sql.ref(from)} = any(${textArray(ids)}::text[])
      order by ${sql.ref(from)}, ${sql.ref(to)} limit ${limit}`.execute(db);
  return result.rows;
}

/** `= any($1::text[])`: a list of any length as one bind parameter. */
function anyText(values: readonly string[]) {
  return sql<string>`any(${textArray(values)}::text[])`;
}
