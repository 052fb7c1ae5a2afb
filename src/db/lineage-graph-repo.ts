/**
 * The edges of the lineage graph, a frontier at a time: each function takes
 * the ids of one kind of node and returns their neighbours of one kind.
 * Edges point the way data flows (dataset → derived dataset, dataset → run
 * that read it, run → model version it made).
 */
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface Link {
  from: string;
  to: string;
}

const BATCH = 1000;

async function inBatches<T>(ids: string[], query: (batch: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += BATCH) out.push(...(await query(ids.slice(i, i + BATCH))));
  return out;
}

/** Dataset versions derived from these (downstream) or that these derive from (upstream). */
export function derivations(db: Kysely<Database>, orgId: string, ids: string[], downstream: boolean, limit: number): Promise<Link[]> {
  const [near, far] = downstream ? (["parentId", "childId"] as const) : (["childId", "parentId"] as const);
  return inBatches(ids, (batch) =>
    db.selectFrom("lineageEdges").select(["parentId as from", "childId as to"]).where("orgId", "=", orgId).where(near, "in", batch).orderBy(far).limit(limit).execute(),
  );
}

/** (dataset version → run) for runs that read these versions (downstream), or versions these runs read (upstream). */
export function reads(db: Kysely<Database>, orgId: string, ids: string[], fromDatasets: boolean, limit: number): Promise<Link[]> {
  return inBatches(ids, (batch) =>
    db
      .selectFrom("runInputs")
      .select(["versionId as from", "runId as to"])
      .where("orgId", "=", orgId)
      .where(fromDatasets ? "versionId" : "runId", "in", batch)
      .limit(limit)
      .execute(),
  );
}

/** (run → model version) for versions these runs made (downstream), or the runs that made these versions (upstream). */
export async function makes(db: Kysely<Database>, orgId: string, ids: string[], fromRuns: boolean, limit: number): Promise<(Link & { registered: boolean })[]> {
  return inBatches(ids, async (batch) => {
    const rows = await db
      .selectFrom("modelVersions")
      .select(["runId", "id", "fromRunArtefacts"])
      .where("orgId", "=", orgId)
      .where("runId", "is not", null)
      .where(fromRuns ? "runId" : "id", "in", batch)
      .limit(limit)
      .execute();
    return rows.map((r) => ({ from: r.runId as string, to: r.id, registered: r.fromRunArtefacts }));
  });
}

export interface NodeDetails {
  id: string;
  label: string;
  createdAt: Date;
  /** The project governing the node (runs, models); null: the organisation (datasets, models without a project). */
  projectId: string | null;
  dataset?: { name: string; version: string };
  model?: { name: string; version: number };
}

export function datasetDetails(db: Kysely<Database>, orgId: string, ids: string[]): Promise<NodeDetails[]> {
  return inBatches(ids, async (batch) => {
    const rows = await db
      .selectFrom("datasetVersions as v")
      .innerJoin("datasets as d", "d.id", "v.datasetId")
      .select(["v.id", "d.name", "v.version", "v.createdAt"])
      .where("v.orgId", "=", orgId)
      .where("v.id", "in", batch)
      .execute();
    return rows.map((r) => ({ id: r.id, label: `${r.name} ${r.version}`, createdAt: r.createdAt, projectId: null, dataset: { name: r.name, version: r.version } }));
  });
}

export function runDetails(db: Kysely<Database>, orgId: string, ids: string[]): Promise<NodeDetails[]> {
  return inBatches(ids, async (batch) => {
    const rows = await db
      .selectFrom("runs as r")
      .innerJoin("experiments as e", "e.id", "r.experimentId")
      .select(["r.id", "r.name", "r.projectId", "r.startTime", "e.name as experiment"])
      .where("r.orgId", "=", orgId)
      .where("r.id", "in", batch)
      .execute();
    return rows.map((r) => ({ id: r.id, label: `${r.experiment}/${r.name || r.id}`, createdAt: r.startTime, projectId: r.projectId }));
  });
}

export function modelDetails(db: Kysely<Database>, orgId: string, ids: string[]): Promise<NodeDetails[]> {
  return inBatches(ids, async (batch) => {
    const rows = await db
      .selectFrom("modelVersions as v")
      .innerJoin("registeredModels as m", "m.id", "v.modelId")
      .select(["v.id", "m.name", "v.version", "v.createdAt", "m.projectId"])
      .where("v.orgId", "=", orgId)
      .where("v.id", "in", batch)
      .execute();
    return rows.map((r) => ({ id: r.id, label: `${r.name} v${r.version}`, createdAt: r.createdAt, projectId: r.projectId, model: { name: r.name, version: r.version } }));
  });
}

/** The id of a dataset version, a run, or a model version named as requests name them. */
export async function datasetVersionId(db: Kysely<Database>, orgId: string, name: string, version: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("datasetVersions as v")
    .innerJoin("datasets as d", "d.id", "v.datasetId")
    .select("v.id")
    .where("v.orgId", "=", orgId)
    .where("d.name", "=", name)
    .where("v.version", "=", version)
    .executeTakeFirst();
  return row?.id;
}

export async function modelVersionId(db: Kysely<Database>, orgId: string, name: string, version: number): Promise<string | undefined> {
  const row = await db
    .selectFrom("modelVersions as v")
    .innerJoin("registeredModels as m", "m.id", "v.modelId")
    .select("v.id")
    .where("v.orgId", "=", orgId)
    .where("m.name", "=", name)
    .where("v.version", "=", version)
    .executeTakeFirst();
  return row?.id;
}
