/** Pipelines and their runs. (Steps: pipeline-steps-repo.ts.) */
import { type Kysely, type Selectable, sql } from "kysely";
import type { Database, PipelineRunStatus, PipelineRunsTable, PipelinesTable } from "./schema.js";

export type PipelineRow = Selectable<PipelinesTable>;
export type PipelineRunRow = Selectable<PipelineRunsTable> & { pipeline: string; projectId: string | null };

export async function findPipeline(db: Kysely<Database>, orgId: string, name: string): Promise<PipelineRow | undefined> {
  return db.selectFrom("pipelines").selectAll().where("orgId", "=", orgId).where("name", "=", name).executeTakeFirst();
}

/** Inserts a pipeline unless one by that name exists; returns the one that exists afterwards. */
export async function ensurePipeline(
  db: Kysely<Database>,
  row: { id: string; orgId: string; name: string; projectId: string | null; description: string; namespace: string },
): Promise<PipelineRow> {
  await db.insertInto("pipelines").values(row).onConflict((oc) => oc.columns(["orgId", "name"]).doNothing()).execute();
  const found = await findPipeline(db, row.orgId, row.name);
  if (!found) throw new Error(`pipeline "${row.name}" vanished right after its insert`);
  return found;
}

export async function listPipelines(
  db: Kysely<Database>,
  orgId: string,
  f: { projectId?: string; projectIds?: string[]; afterName?: string; limit: number },
): Promise<PipelineRow[]> {
  let q = db.selectFrom("pipelines").selectAll().where("orgId", "=", orgId);
  if (f.projectId) q = q.where("projectId", "=", f.projectId);
  if (f.projectIds) q = f.projectIds.length === 0 ? q.where(sql<boolean>`false`) : q.where("projectId", "in", f.projectIds);
  if (f.afterName !== undefined) q = q.where("name", ">", f.afterName);
  return q.orderBy("name").limit(f.limit).execute();
}

function runs(db: Kysely<Database>) {
  return db.selectFrom("pipelineRuns as r").innerJoin("pipelines as p", "p.id", "r.pipelineId").selectAll("r").select(["p.name as pipeline", "p.projectId"]);
}

export async function findRun(db: Kysely<Database>, orgId: string, id: string): Promise<PipelineRunRow | undefined> {
  return runs(db).where("r.orgId", "=", orgId).where("r.id", "=", id).executeTakeFirst();
}

export async function findRunByRequest(db: Kysely<Database>, pipelineId: string, requestId: string): Promise<PipelineRunRow | undefined> {
  return runs(db).where("r.pipelineId", "=", pipelineId).where("r.requestId", "=", requestId).executeTakeFirst();
}

export async function findRunByExternalId(db: Kysely<Database>, orgId: string, externalId: string): Promise<PipelineRunRow | undefined> {
  return runs(db).where("r.orgId", "=", orgId).where("r.externalId", "=", externalId).executeTakeFirst();
}

/** Newest first. */
export async function listRuns(db: Kysely<Database>, pipelineId: string, beforeSeq: number | undefined, limit: number): Promise<PipelineRunRow[]> {
  let q = runs(db).where("r.pipelineId", "=", pipelineId);
  if (beforeSeq !== undefined) q = q.where("r.seq", "<", beforeSeq);
  return q.orderBy("r.seq", "desc").limit(limit).execute();
}

export interface NewRun {
  id: string;
  orgId: string;
  pipelineId: string;
  status: PipelineRunStatus;
  startTime: Date;
  trigger: string;
  params: Record<string, string>;
  facets: Record<string, unknown>;
  requestId: string | null;
  externalId: string | null;
}

/** Inserts a run; false when its request_id or external id was taken first (a concurrent retry). */
export async function insertRun(db: Kysely<Database>, run: NewRun): Promise<boolean> {
  const rows = await db
    .insertInto("pipelineRuns")
    .values({ ...run, params: JSON.stringify(run.params), facets: JSON.stringify(run.facets) })
    .onConflict((oc) => oc.doNothing())
    .returning("id")
    .execute();
  return rows.length === 1;
}

/** Ends a run unless it has ended already (events arrive twice and out of order: the first end wins). */
export async function finishRun(db: Kysely<Database>, id: string, status: PipelineRunStatus, at: Date): Promise<void> {
  await db.updateTable("pipelineRuns").set({ status, endTime: at }).where("id", "=", id).where("status", "=", "running").execute();
}

/** Merges facets into a run's (OpenLineage keeps every facet), and moves its start earlier if `start` is. */
export async function mergeRunFacets(db: Kysely<Database>, id: string, facets: Record<string, unknown>, start: Date | undefined): Promise<void> {
  await db
    .updateTable("pipelineRuns")
    .set({
      facets: sql`facets || ${JSON.stringify(facets)}::jsonb`,
      ...(start ? { startTime: sql<Date>`least(start_time, ${start})` } : {}),
    })
    .where("id", "=", id)
    .execute();
}

/** Instances by status, for the runs listed. */
export async function stepCounts(db: Kysely<Database>, runIds: string[]): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>();
  if (runIds.length === 0) return out;
  const rows = await db
    .selectFrom("pipelineSteps")
    .select(["pipelineRunId", "status", (eb) => eb.fn.countAll<number>().as("n")])
    .where("pipelineRunId", "in", runIds)
    .groupBy(["pipelineRunId", "status"])
    .execute();
  for (const r of rows) out.set(r.pipelineRunId, { ...(out.get(r.pipelineRunId) ?? {}), [r.status]: Number(r.n) });
  return out;
}
