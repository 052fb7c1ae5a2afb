/** Set-based writes and reads of many step instances at once (RecordSteps): a few statements per call, not a few per step. */
import { type Kysely, sql } from "kysely";
import type { StepRow } from "./pipeline-steps-repo.js";
import type { Database } from "./schema.js";

/** Rows per multi-row INSERT: well under PostgreSQL's 65,535 parameters at 15 columns. */
const ROWS_PER_INSERT = 1000;

function chunks<T>(rows: T[], size = ROWS_PER_INSERT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export type NewStepRow = Omit<StepRow, "facets"> & { facets: Record<string, unknown> };

/** Inserts instances, skipping those whose (run, name, instance) exists; the rows inserted. */
export async function insertSteps(db: Kysely<Database>, rows: NewStepRow[]): Promise<StepRow[]> {
  const out: StepRow[] = [];
  for (const part of chunks(rows)) {
    const values = part.map((r) => ({ ...r, facets: JSON.stringify(r.facets) }));
    out.push(...(await db.insertInto("pipelineSteps").values(values).onConflict((oc) => oc.doNothing()).returningAll().execute()));
  }
  return out;
}

export async function addUpstreamRows(db: Kysely<Database>, rows: { pipelineRunId: string; step: string; upstream: string; orgId: string }[]): Promise<void> {
  for (const part of chunks(rows, 5000)) await db.insertInto("stepUpstream").values(part).onConflict((oc) => oc.doNothing()).execute();
}

/** For each cache key, the latest succeeded instance of the pipeline with it, outside run `notRun`. */
export async function cacheHits(db: Kysely<Database>, pipelineId: string, keys: string[], notRun: string): Promise<Map<string, StepRow>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom("pipelineSteps")
    .selectAll()
    .distinctOn("cacheKey")
    .where("pipelineId", "=", pipelineId)
    .where("cacheKey", "in", keys)
    .where("status", "=", "succeeded")
    .where("pipelineRunId", "<>", notRun)
    .orderBy("cacheKey")
    .orderBy("endTime", "desc")
    .execute();
  return new Map(rows.map((r) => [r.cacheKey, r]));
}

/** The external datasets by namespace and name, created when absent (facets merged); key `namespace\0name` → id. */
export async function ensureExternals(
  db: Kysely<Database>,
  rows: { id: string; orgId: string; namespace: string; name: string; facets: Record<string, unknown> }[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const part of chunks(rows)) {
    const inserted = await db
      .insertInto("externalDatasets")
      .values(part.map((r) => ({ ...r, facets: JSON.stringify(r.facets) })))
      .onConflict((oc) => oc.columns(["orgId", "namespace", "name"]).doUpdateSet({ facets: sql`external_datasets.facets || excluded.facets` }))
      .returning(["id", "namespace", "name"])
      .execute();
    for (const r of inserted) out.set(`${r.namespace}\0${r.name}`, r.id);
  }
  return out;
}

/** Which steps of the run read or wrote any of these things. */
export async function ioTouching(db: Kysely<Database>, runId: string, refKeys: string[]): Promise<{ step: string; direction: "in" | "out"; refKey: string }[]> {
  const out: { step: string; direction: "in" | "out"; refKey: string }[] = [];
  for (const part of chunks(refKeys, 10_000)) {
    out.push(...(await db.selectFrom("stepIo").select(["step", "direction", "refKey"]).distinct().where("pipelineRunId", "=", runId).where("refKey", "in", part).execute()));
  }
  return out;
}

export async function stepsByIds(db: Kysely<Database>, ids: string[]): Promise<StepRow[]> {
  const out: StepRow[] = [];
  for (const part of chunks(ids, 10_000)) out.push(...(await db.selectFrom("pipelineSteps").selectAll().where("id", "in", part).execute()));
  return out;
}
