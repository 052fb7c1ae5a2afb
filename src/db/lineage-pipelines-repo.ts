/**
 * The pipeline side of the lineage graph, a frontier at a time: pipeline runs
 * contain steps (a step is a run's instances of one name, keyed
 * "<pipeline run id>/<name>"), steps read and write datasets, models, run
 * artefacts and external datasets, and may be tracked as runs.
 */
import { type Kysely, sql } from "kysely";
import type { NodeDetails } from "./lineage-graph-repo.js";
import type { Database } from "./schema.js";

const BATCH = 500;

async function inBatches<I, T>(items: I[], query: (batch: I[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(...(await query(items.slice(i, i + BATCH))));
  return out;
}

export const stepKey = (runId: string, name: string) => `${runId}/${name}`;
const splitStep = (key: string): [string, string] => {
  const at = key.indexOf("/");
  return [key.slice(0, at), key.slice(at + 1)];
};

/** (pipeline run → step) for the steps of these runs. */
export function stepsOfRuns(db: Kysely<Database>, orgId: string, runIds: string[], limit: number): Promise<{ from: string; to: string }[]> {
  return inBatches(runIds, async (batch) => {
    const rows = await db.selectFrom("pipelineSteps").select(["pipelineRunId", "name"]).distinct().where("orgId", "=", orgId).where("pipelineRunId", "in", batch).limit(limit).execute();
    return rows.map((r) => ({ from: r.pipelineRunId, to: stepKey(r.pipelineRunId, r.name) }));
  });
}

/** The things these steps read ("in") or wrote ("out"), as (step key, ref key). */
export function ioOfSteps(db: Kysely<Database>, orgId: string, steps: string[], direction: "in" | "out", limit: number): Promise<{ step: string; refKey: string }[]> {
  return inBatches(steps, async (batch) => {
    const pairs = batch.map(splitStep);
    const rows = await db
      .selectFrom("stepIo")
      .select(["pipelineRunId", "step", "refKey"])
      .distinct()
      .where("orgId", "=", orgId)
      .where("direction", "=", direction)
      .where((eb) => eb.or(pairs.map(([runId, name]) => eb.and([eb("pipelineRunId", "=", runId), eb("step", "=", name)]))))
      .limit(limit)
      .execute();
    return rows.map((r) => ({ step: stepKey(r.pipelineRunId, r.step), refKey: r.refKey }));
  });
}

/** The steps that read ("in") or wrote ("out") these things (ref keys). */
export function stepsOfRefs(db: Kysely<Database>, orgId: string, refKeys: string[], direction: "in" | "out", limit: number): Promise<{ step: string; refKey: string }[]> {
  return inBatches(refKeys, async (batch) => {
    const rows = await db
      .selectFrom("stepIo")
      .select(["pipelineRunId", "step", "refKey"])
      .distinct()
      .where("orgId", "=", orgId)
      .where("direction", "=", direction)
      .where("refKey", "in", batch)
      .limit(limit)
      .execute();
    return rows.map((r) => ({ step: stepKey(r.pipelineRunId, r.step), refKey: r.refKey }));
  });
}

/** (step → run) for runs tracking these steps, or steps tracked by these runs. */
export function tracking(db: Kysely<Database>, orgId: string, ids: string[], fromSteps: boolean, limit: number): Promise<{ from: string; to: string }[]> {
  return inBatches(ids, async (batch) => {
    let q = db.selectFrom("pipelineSteps").select(["pipelineRunId", "name", "runId"]).distinct().where("orgId", "=", orgId).where("runId", "is not", null);
    if (fromSteps) {
      const pairs = batch.map(splitStep);
      q = q.where((eb) => eb.or(pairs.map(([runId, name]) => eb.and([eb("pipelineRunId", "=", runId), eb("name", "=", name)]))));
    } else {
      q = q.where("runId", "in", batch);
    }
    const rows = await q.limit(limit).execute();
    return rows.map((r) => ({ from: stepKey(r.pipelineRunId, r.name), to: r.runId as string }));
  });
}

export function pipelineRunDetails(db: Kysely<Database>, orgId: string, ids: string[]): Promise<NodeDetails[]> {
  return inBatches(ids, async (batch) => {
    const rows = await db
      .selectFrom("pipelineRuns as r")
      .innerJoin("pipelines as p", "p.id", "r.pipelineId")
      .select(["r.id", "r.seq", "r.startTime", "p.name", "p.projectId"])
      .where("r.orgId", "=", orgId)
      .where("r.id", "in", batch)
      .execute();
    return rows.map((r) => ({ id: r.id, label: `${r.name} run ${r.seq}`, createdAt: r.startTime, projectId: r.projectId }));
  });
}

export function stepDetails(db: Kysely<Database>, orgId: string, keys: string[]): Promise<NodeDetails[]> {
  return inBatches(keys, async (batch) => {
    const pairs = batch.map(splitStep);
    const rows = await db
      .selectFrom("pipelineSteps as s")
      .innerJoin("pipelines as p", "p.id", "s.pipelineId")
      .select(["s.pipelineRunId", "s.name", "p.name as pipeline", "p.projectId", sql<Date>`min(coalesce(s.start_time, now()))`.as("startTime")])
      .where("s.orgId", "=", orgId)
      .where((eb) => eb.or(pairs.map(([runId, name]) => eb.and([eb("s.pipelineRunId", "=", runId), eb("s.name", "=", name)]))))
      .groupBy(["s.pipelineRunId", "s.name", "p.name", "p.projectId"])
      .execute();
    return rows.map((r) => ({ id: stepKey(r.pipelineRunId, r.name), label: `${r.pipeline}: ${r.name}`, createdAt: new Date(r.startTime), projectId: r.projectId }));
  });
}

export function externalDetails(db: Kysely<Database>, orgId: string, ids: string[]): Promise<(NodeDetails & { external: { namespace: string; name: string } })[]> {
  return inBatches(ids, async (batch) => {
    const rows = await db.selectFrom("externalDatasets").select(["id", "namespace", "name", "createdAt"]).where("orgId", "=", orgId).where("id", "in", batch).execute();
    return rows.map((r) => ({ id: r.id, label: `${r.namespace}/${r.name}`, createdAt: r.createdAt, projectId: null, external: { namespace: r.namespace, name: r.name } }));
  });
}

export async function externalId(db: Kysely<Database>, orgId: string, namespace: string, name: string): Promise<string | undefined> {
  const row = await db.selectFrom("externalDatasets").select("id").where("orgId", "=", orgId).where("namespace", "=", namespace).where("name", "=", name).executeTakeFirst();
  return row?.id;
}
