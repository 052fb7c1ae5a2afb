/**
 * Queries over projects, experiments and runs. Each takes a Kysely<Database>
 * so it runs in or out of a transaction, and every query is scoped to one
 * organisation.
 */
import { type Kysely, sql } from "kysely";
import { latestPointOf } from "./latest-metrics-repo.js";
import { textArray } from "./pg-arrays.js";
import type { ExperimentRow, Database, ProjectRow, RunRow } from "./schema.js";

export type RunWithNames = RunRow & { projectName: string; experimentName: string };

/** Inserts a project unless one by that name exists; returns the one that exists afterwards. */
export async function ensureProject(db: Kysely<Database>, row: Omit<ProjectRow, "createdAt">): Promise<ProjectRow> {
  await db.insertInto("projects").values(row).onConflict((oc) => oc.columns(["orgId", "name"]).doNothing()).execute();
  const found = await findProject(db, row.orgId, row.name);
  if (!found) throw new Error(`project "${row.name}" vanished right after its insert`);
  return found;
}

export async function findProject(db: Kysely<Database>, orgId: string, name: string): Promise<ProjectRow | undefined> {
  return db.selectFrom("projects").selectAll().where("orgId", "=", orgId).where("name", "=", name).executeTakeFirst();
}

/** Projects by name, after `afterName`. */
export async function listProjects(db: Kysely<Database>, orgId: string, opts: { afterName: string | undefined; limit: number }): Promise<ProjectRow[]> {
  let query = db.selectFrom("projects").selectAll().where("orgId", "=", orgId).orderBy("name").limit(opts.limit);
  if (opts.afterName !== undefined) query = query.where("name", ">", opts.afterName);
  return query.execute();
}

/** Inserts an experiment unless the project has one by that name; returns the one that exists afterwards. */
export async function ensureExperiment(db: Kysely<Database>, row: Omit<ExperimentRow, "createdAt">): Promise<ExperimentRow> {
  await db.insertInto("experiments").values(row).onConflict((oc) => oc.columns(["projectId", "name"]).doNothing()).execute();
  const found = await findExperiment(db, row.orgId, row.projectId, row.name);
  if (!found) throw new Error(`experiment "${row.name}" vanished right after its insert`);
  return found;
}

export async function findExperiment(db: Kysely<Database>, orgId: string, projectId: string, name: string): Promise<ExperimentRow | undefined> {
  return db
    .selectFrom("experiments")
    .selectAll()
    .where("orgId", "=", orgId)
    .where("projectId", "=", projectId)
    .where("name", "=", name)
    .executeTakeFirst();
}

/** The project's experiments among `names` (absent names are simply missing); one array parameter for any number of names. */
export async function findExperiments(db: Kysely<Database>, orgId: string, projectId: string, names: readonly string[]): Promise<ExperimentRow[]> {
  if (names.length === 0) return [];
  return db
    .selectFrom("experiments")
    .selectAll()
    .where("orgId", "=", orgId)
    .where("projectId", "=", projectId)
    .where("name", "=", sql<string>`any(${textArray(names)}::text[])`)
    .execute();
}

export async function listExperiments(
  db: Kysely<Database>,
  orgId: string,
  opts: { projectId: string; afterName: string | undefined; limit: number },
): Promise<ExperimentRow[]> {
  let query = db
    .selectFrom("experiments")
    .selectAll()
    .where("orgId", "=", orgId)
    .where("projectId", "=", opts.projectId)
    .orderBy("name")
    .limit(opts.limit);
  if (opts.afterName !== undefined) query = query.where("name", ">", opts.afterName);
  return query.execute();
}

/** Inserts a run; false when its request id is taken in the experiment (a retry). */
export async function insertRun(db: Kysely<Database>, row: Omit<RunRow, "seq">): Promise<boolean> {
  const inserted = await db
    .insertInto("runs")
    .values(row)
    .onConflict((oc) => oc.columns(["experimentId", "requestId"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findRunByRequest(db: Kysely<Database>, orgId: string, experimentId: string, requestId: string): Promise<RunRow | undefined> {
  return db
    .selectFrom("runs")
    .selectAll()
    .where("orgId", "=", orgId)
    .where("experimentId", "=", experimentId)
    .where("requestId", "=", requestId)
    .executeTakeFirst();
}

function runsWithNames(db: Kysely<Database>, orgId: string) {
  return db
    .selectFrom("runs as r")
    .innerJoin("projects as p", "p.id", "r.projectId")
    .innerJoin("experiments as e", "e.id", "r.experimentId")
    .selectAll("r")
    .select(["p.name as projectName", "e.name as experimentName"])
    .where("r.orgId", "=", orgId);
}

export async function findRun(db: Kysely<Database>, orgId: string, runId: string): Promise<RunWithNames | undefined> {
  return runsWithNames(db, orgId).where("r.id", "=", runId).executeTakeFirst();
}

/** Locks a run's row for the rest of the transaction; metric writes (FOR KEY SHARE through their foreign key) go on. */
export async function lockRun(db: Kysely<Database>, orgId: string, runId: string): Promise<RunRow | undefined> {
  return db.selectFrom("runs").selectAll().where("orgId", "=", orgId).where("id", "=", runId).forNoKeyUpdate().executeTakeFirst();
}

/** Whether the run exists in the organisation. */
export async function runExists(db: Kysely<Database>, orgId: string, runId: string): Promise<boolean> {
  return (await db.selectFrom("runs").select("id").where("orgId", "=", orgId).where("id", "=", runId).executeTakeFirst()) !== undefined;
}

/** The project a run belongs to, if the organisation has the run. */
export async function projectOfRun(db: Kysely<Database>, orgId: string, runId: string): Promise<string | undefined> {
  const row = await db.selectFrom("runs").select("projectId").where("orgId", "=", orgId).where("id", "=", runId).executeTakeFirst();
  return row?.projectId;
}

export async function updateRunStatus(db: Kysely<Database>, orgId: string, runId: string, status: RunRow["status"], endTime: Date | null): Promise<void> {
  await db.updateTable("runs").set({ status, endTime }).where("orgId", "=", orgId).where("id", "=", runId).execute();
}

export type RunMetricOp = "<" | "<=" | ">" | ">=";

export interface RunFilter {
  projectId: string;
  experimentIds: string[];
  statuses: RunRow["status"][];
  group: string | undefined;
  tags: [string, string][];
  params: [string, string][];
  metrics: { key: string; op: RunMetricOp; value: number }[];
  beforeSeq: number | undefined;
  limit: number;
}

/** Runs of a project matching every filter, newest first. */
export async function searchRuns(db: Kysely<Database>, orgId: string, filter: RunFilter): Promise<RunWithNames[]> {
  let query = runsWithNames(db, orgId).where("r.projectId", "=", filter.projectId).orderBy("r.seq", "desc").limit(filter.limit);
  if (filter.experimentIds.length > 0) query = query.where("r.experimentId", "=", sql<string>`any(${textArray(filter.experimentIds)}::text[])`);
  if (filter.statuses.length > 0) query = query.where("r.status", "in", filter.statuses);
  if (filter.group !== undefined) query = query.where("r.runGroup", "=", filter.group);
  if (filter.beforeSeq !== undefined) query = query.where("r.seq", "<", filter.beforeSeq);
  for (const [table, entries] of [["run_tags", filter.tags], ["run_params", filter.params]] as const) {
    for (const [key, value] of entries) {
      query = query.where(sql<boolean>`exists (select 1 from ${sql.table(table)} x where x.run_id = r.id and x.key = ${key} and x.value = ${value})`);
    }
  }
  for (const m of filter.metrics) {
    // The latest point, as Run.latest_metrics reports it: one descent of the
    // (run_id, key, step) index per candidate run. NaN compares above every
    // number in PostgreSQL; here it matches no threshold.
    query = query.where(sql<boolean>`exists (
      select 1 from (${latestPointOf(sql.ref("r.id"), m.key)}) latest
      where latest.value <> 'NaN'::float8 and latest.value ${sql.raw(m.op)} ${m.value}::float8)`);
  }
  return query.execute();
}
