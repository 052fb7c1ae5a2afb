/** Step instances of pipeline runs, their upstream steps, inputs and outputs, and external datasets. */
import { type Kysely, type Selectable, sql } from "kysely";
import { lockInTransaction } from "./advisory-lock.js";
import type { Database, PipelineStepsTable, StepIoTable, StepStatus } from "./schema.js";

export type StepRow = Selectable<PipelineStepsTable>;
export type StepIoRow = Selectable<StepIoTable>;

const TERMINAL: StepStatus[] = ["succeeded", "failed", "skipped", "cached"];

/** Advisory lock namespace for one pipeline run's graph: "tp". */
const GRAPH_LOCK_SPACE = 0x7470;

/** Serialises changes that join steps already in a run's graph, until `trx` ends. */
export const lockRunGraph = (trx: Kysely<Database>, runId: string) => lockInTransaction(trx, GRAPH_LOCK_SPACE, runId);

export async function findStep(db: Kysely<Database>, orgId: string, id: string): Promise<StepRow | undefined> {
  return db.selectFrom("pipelineSteps").selectAll().where("orgId", "=", orgId).where("id", "=", id).executeTakeFirst();
}

export async function findInstance(db: Kysely<Database>, runId: string, name: string, instance: number): Promise<StepRow | undefined> {
  return db.selectFrom("pipelineSteps").selectAll().where("pipelineRunId", "=", runId).where("name", "=", name).where("instance", "=", instance).executeTakeFirst();
}

export async function findByExternalId(db: Kysely<Database>, orgId: string, externalId: string): Promise<StepRow | undefined> {
  return db.selectFrom("pipelineSteps").selectAll().where("orgId", "=", orgId).where("externalId", "=", externalId).executeTakeFirst();
}

/** The instance number after the highest of a step of a run (0 for a step not started yet). */
export async function nextInstance(db: Kysely<Database>, runId: string, name: string): Promise<number> {
  const row = await db
    .selectFrom("pipelineSteps")
    .select((eb) => eb.fn.max("instance").as("last"))
    .where("pipelineRunId", "=", runId)
    .where("name", "=", name)
    .executeTakeFirst();
  return row?.last === null || row?.last === undefined ? 0 : Number(row.last) + 1;
}

export async function countInstances(db: Kysely<Database>, runId: string): Promise<number> {
  const row = await db.selectFrom("pipelineSteps").select((eb) => eb.fn.countAll<number>().as("n")).where("pipelineRunId", "=", runId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Which of `names` are steps of the run (any instance). */
export async function existingStepNames(db: Kysely<Database>, runId: string, names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await db.selectFrom("pipelineSteps").select("name").distinct().where("pipelineRunId", "=", runId).where("name", "in", names).execute();
  return new Set(rows.map((r) => r.name));
}

/** Inserts an instance unless (run, name, instance) exists; the row inserted, or undefined. */
export async function insertStep(db: Kysely<Database>, row: Omit<StepRow, "cacheKey" | "message" | "facets"> & { cacheKey: string; facets: Record<string, unknown> }): Promise<StepRow | undefined> {
  return db
    .insertInto("pipelineSteps")
    .values({ ...row, facets: JSON.stringify(row.facets) })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** A pending instance starts running; any other is left as it is (a retried or late start). */
export async function markStarted(db: Kysely<Database>, id: string, at: Date): Promise<void> {
  await db.updateTable("pipelineSteps").set({ status: "running", startTime: at }).where("id", "=", id).where("status", "=", "pending").execute();
}

/** Ends an instance unless it has ended already (the first end wins: events may come twice, or late); the row if this call ended it. */
export async function finishStep(db: Kysely<Database>, id: string, status: StepStatus, at: Date, message: string): Promise<StepRow | undefined> {
  return db
    .updateTable("pipelineSteps")
    .set({ status, endTime: at, message, startTime: sql<Date>`coalesce(start_time, ${at})` })
    .where("id", "=", id)
    .where("status", "not in", TERMINAL)
    .returningAll()
    .executeTakeFirst();
}

/** `finishStep` by the instance's id within the organisation: the row if this call ended it. */
export async function finishStepOf(db: Kysely<Database>, orgId: string, id: string, status: StepStatus, at: Date, message: string): Promise<StepRow | undefined> {
  return db
    .updateTable("pipelineSteps")
    .set({ status, endTime: at, message, startTime: sql<Date>`coalesce(start_time, ${at})` })
    .where("orgId", "=", orgId)
    .where("id", "=", id)
    .where("status", "not in", TERMINAL)
    .returningAll()
    .executeTakeFirst();
}

/** The run's declared edges, and the most upstream steps any of `steps` has (which one, and how many). */
export async function upstreamCounts(db: Kysely<Database>, runId: string, steps: string[]): Promise<{ runEdges: number; step: string; stepEdges: number }> {
  const total = await db.selectFrom("stepUpstream").select((eb) => eb.fn.countAll<number>().as("n")).where("pipelineRunId", "=", runId).executeTakeFirstOrThrow();
  if (steps.length === 0) return { runEdges: Number(total.n), step: "", stepEdges: 0 };
  const most = await db
    .selectFrom("stepUpstream")
    .select(["step", (eb) => eb.fn.countAll<number>().as("n")])
    .where("pipelineRunId", "=", runId)
    .where("step", "in", steps)
    .groupBy("step")
    .orderBy("n", "desc")
    .limit(1)
    .executeTakeFirst();
  return { runEdges: Number(total.n), step: most?.step ?? "", stepEdges: Number(most?.n ?? 0) };
}

/** Merges facets into an instance's (OpenLineage keeps every facet), and moves its start earlier if `start` is (events arrive out of order). */
export async function mergeStepFacets(db: Kysely<Database>, id: string, facets: Record<string, unknown>, runId: string | null, start?: Date): Promise<void> {
  await db
    .updateTable("pipelineSteps")
    .set({
      facets: sql`facets || ${JSON.stringify(facets)}::jsonb`,
      ...(runId ? { runId } : {}),
      ...(start ? { startTime: sql<Date>`least(start_time, ${start})` } : {}),
    })
    .where("id", "=", id)
    .execute();
}

/** Pending instances of these steps become skipped (a step upstream failed, or the run ended without them). */
export async function skipPending(db: Kysely<Database>, runId: string, names: string[] | "all", at: Date): Promise<void> {
  let q = db.updateTable("pipelineSteps").set({ status: "skipped", endTime: at }).where("pipelineRunId", "=", runId).where("status", "=", "pending");
  if (names !== "all") {
    if (names.length === 0) return;
    q = q.where("name", "in", names);
  }
  await q.execute();
}

/**
 * Ends the run's open instances as its end leaves them: pending ones never
 * ran (skipped); running ones were cut short (failed) when the run failed or
 * was aborted, else the run did not wait for them (skipped).
 */
export async function closeOpenSteps(db: Kysely<Database>, runId: string, runFailed: boolean, at: Date): Promise<void> {
  await skipPending(db, runId, "all", at);
  await db
    .updateTable("pipelineSteps")
    .set({
      status: runFailed ? "failed" : "skipped",
      endTime: at,
      message: runFailed ? "the pipeline run failed or was aborted while this step was running" : "the pipeline run ended while this step was still running",
    })
    .where("pipelineRunId", "=", runId)
    .where("status", "=", "running")
    .execute();
}

/** An earlier succeeded instance of the same pipeline with this cache key, if any. */
export async function cacheHit(db: Kysely<Database>, pipelineId: string, cacheKey: string, notRun: string): Promise<StepRow | undefined> {
  return db
    .selectFrom("pipelineSteps")
    .selectAll()
    .where("pipelineId", "=", pipelineId)
    .where("cacheKey", "=", cacheKey)
    .where("status", "=", "succeeded")
    .where("pipelineRunId", "<>", notRun)
    .orderBy("endTime", "desc")
    .limit(1)
    .executeTakeFirst();
}

export async function addUpstream(db: Kysely<Database>, orgId: string, runId: string, step: string, upstream: string[]): Promise<void> {
  if (upstream.length === 0) return;
  await db
    .insertInto("stepUpstream")
    .values(upstream.map((u) => ({ pipelineRunId: runId, step, upstream: u, orgId })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function addIo(db: Kysely<Database>, rows: StepIoRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await db.insertInto("stepIo").values(rows.slice(i, i + 1000)).onConflict((oc) => oc.doNothing()).execute();
  }
}

/** Every input and output of a run's steps, at most `limit`. */
export async function ioOfRun(db: Kysely<Database>, runId: string, limit: number): Promise<StepIoRow[]> {
  return db.selectFrom("stepIo").selectAll().where("pipelineRunId", "=", runId).limit(limit).execute();
}

export async function ioOf(db: Kysely<Database>, stepIds: string[]): Promise<StepIoRow[]> {
  if (stepIds.length === 0) return [];
  return db.selectFrom("stepIo").selectAll().where("stepId", "in", stepIds).execute();
}

/** The steps of a run that read (`direction` "in") or wrote ("out") any of these things. */
export async function stepsTouching(db: Kysely<Database>, runId: string, refKeys: string[], direction: "in" | "out"): Promise<string[]> {
  if (refKeys.length === 0) return [];
  const rows = await db.selectFrom("stepIo").select("step").distinct().where("pipelineRunId", "=", runId).where("direction", "=", direction).where("refKey", "in", refKeys).execute();
  return rows.map((r) => r.step);
}

/** Every instance of a run, at most `limit`. */
export async function stepsOfRun(db: Kysely<Database>, runId: string, limit: number): Promise<StepRow[]> {
  return db.selectFrom("pipelineSteps").selectAll().where("pipelineRunId", "=", runId).orderBy("name").orderBy("instance").limit(limit).execute();
}

/** The run's edges between step names: declared upstream steps, and data written by one and read by another. */
export async function edgesOfRun(db: Kysely<Database>, runId: string, limit: number): Promise<{ from: string; to: string; fromData: boolean }[]> {
  const rows = await sql<{ from: string; to: string; fromData: boolean }>`
    select upstream as "from", step as "to", false as "fromData" from step_upstream where pipeline_run_id = ${runId}
    union
    select o.step, i.step, true from step_io o join step_io i
      on i.pipeline_run_id = o.pipeline_run_id and i.ref_key = o.ref_key and i.direction = 'in'
    where o.pipeline_run_id = ${runId} and o.direction = 'out' and o.step <> i.step
    limit ${limit}`.execute(db);
  return rows.rows;
}

/** The run's edges between step names (declared, and from data), as the CTE `edges(src, dst)`. */
const edgesCte = (runId: string) => sql`edges(src, dst) as (
      select upstream, step from step_upstream where pipeline_run_id = ${runId}
      union
      select o.step, i.step from step_io o join step_io i
        on i.pipeline_run_id = o.pipeline_run_id and i.ref_key = o.ref_key and i.direction = 'in'
      where o.pipeline_run_id = ${runId} and o.direction = 'out'
    )`;

/**
 * Whether `to` can be reached from `from` along the run's edges (declared and
 * from data): an edge to → from would then close a cycle. Walks at most the
 * run's bounded graph, in the database.
 */
export async function reaches(db: Kysely<Database>, runId: string, from: string, to: string): Promise<boolean> {
  if (from === to) return true;
  const rows = await sql<{ one: number }>`
    with recursive ${edgesCte(runId)}, reach(name) as (
      select ${from}::text
      union
      select e.dst from edges e join reach r on e.src = r.name
    )
    select 1 as one from reach where name = ${to} limit 1`.execute(db);
  return rows.rows.length > 0;
}

/** Names of steps downstream of `name` (transitively), through declared and data edges. */
export async function downstreamOf(db: Kysely<Database>, runId: string, name: string): Promise<string[]> {
  const rows = await sql<{ name: string }>`
    with recursive ${edgesCte(runId)}, reach(name) as (
      select e.dst from edges e where e.src = ${name}
      union
      select e.dst from edges e join reach r on e.src = r.name
    )
    select name from reach`.execute(db);
  return rows.rows.map((r) => r.name);
}

export async function externalsById(db: Kysely<Database>, ids: string[]): Promise<Map<string, { namespace: string; name: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom("externalDatasets").select(["id", "namespace", "name"]).where("id", "in", ids).execute();
  return new Map(rows.map((r) => [r.id, { namespace: r.namespace, name: r.name }]));
}
