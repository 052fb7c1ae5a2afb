/** Pipelines and their runs, and a run's DAG as the API shows it. */
import type { Kysely } from "kysely";
import { findProject } from "../../db/experiments-repo.js";
import { projectNames } from "../../db/grants-repo.js";
import * as steps from "../../db/pipeline-steps-repo.js";
import * as repo from "../../db/pipelines-repo.js";
import type { Database } from "../../db/schema.js";
import { AlreadyExistsError, NotFoundError } from "../errors.js";
import { newId } from "../ids.js";
import { decodeToken, isSafeInt, isString, type Page, pageOf } from "../page-tokens.js";
import { layered } from "./graph.js";
import type { createIoResolver } from "./io.js";
import {
  type IoView,
  MAX_EDGES_PER_RUN,
  MAX_INSTANCES_PER_RUN,
  type PipelineRow,
  type PipelineRunRow,
  type PipelineRunStatus,
  type PipelineView,
  type RunView,
  type StepEdge,
  type StepStatus,
  type StepView,
} from "./types.js";

/** The status of a step from its instances': failed, else running, else pending, else the rest. */
function overall(statuses: StepStatus[]): StepStatus {
  for (const s of ["failed", "running", "pending", "succeeded", "cached", "skipped"] as const) if (statuses.includes(s)) return s;
  return "pending";
}

export function createPipelineRuns(deps: { db: Kysely<Database>; now: () => Date; ensureProject: (orgId: string, name: string) => Promise<string>; io: ReturnType<typeof createIoResolver> }) {
  const { db, now, io } = deps;

  async function view(p: PipelineRow): Promise<PipelineView> {
    return { ...p, project: p.projectId ? ((await projectNames(db, p.orgId, [p.projectId])).get(p.projectId) ?? "") : "" };
  }

  /** Creates a pipeline; a retry with the same project and description returns it, anything else is AlreadyExistsError. */
  async function create(orgId: string, p: { name: string; project: string; description: string; namespace?: string }): Promise<PipelineView> {
    const projectId = p.project ? await deps.ensureProject(orgId, p.project) : null;
    const row = await repo.ensurePipeline(db, { id: newId("pl"), orgId, name: p.name, projectId, description: p.description, namespace: p.namespace ?? "" });
    if (row.projectId !== projectId || row.description !== p.description) {
      throw new AlreadyExistsError(`pipeline "${p.name}" exists already with another project or description; choose another name`);
    }
    return view(row);
  }

  async function mustFind(orgId: string, name: string): Promise<PipelineRow> {
    const row = await repo.findPipeline(db, orgId, name);
    if (!row) throw new NotFoundError(`pipeline "${name}" not found`);
    return row;
  }

  const get = async (orgId: string, name: string) => view(await mustFind(orgId, name));

  async function list(orgId: string, q: { project: string; visibleProjectIds?: string[]; pageSize: number; pageToken: string }): Promise<Page<PipelineView>> {
    const afterName = q.pageToken ? decodeToken(q.pageToken, isString) : undefined;
    const project = q.project ? await findProject(db, orgId, q.project) : undefined;
    if (q.project && !project) return { items: [], nextPageToken: "" };
    const rows = await repo.listPipelines(db, orgId, { projectId: project?.id, projectIds: q.visibleProjectIds, afterName, limit: q.pageSize + 1 });
    const page = pageOf(rows, q.pageSize, (last) => last.name);
    return { items: await Promise.all(page.items.map(view)), nextPageToken: page.nextPageToken };
  }

  async function runView(row: PipelineRunRow): Promise<RunView> {
    return { ...row, stepCounts: (await repo.stepCounts(db, [row.id])).get(row.id) ?? {} };
  }

  async function findRun(orgId: string, id: string): Promise<PipelineRunRow> {
    const row = await repo.findRun(db, orgId, id);
    if (!row) throw new NotFoundError(`pipeline run "${id}" not found`);
    return row;
  }

  /** Starts a run; a request_id (or OpenLineage run id) seen before returns the run it started. */
  async function start(
    orgId: string,
    s: { pipeline: string; trigger: string; params: Record<string, string>; requestId: string; createPipeline: boolean; project: string; externalId?: string; facets?: Record<string, unknown>; namespace?: string; at?: Date },
  ): Promise<RunView> {
    let pipeline = await repo.findPipeline(db, orgId, s.pipeline);
    if (!pipeline) {
      if (!s.createPipeline) throw new NotFoundError(`pipeline "${s.pipeline}" not found: create it first, or set create_pipeline`);
      const projectId = s.project ? await deps.ensureProject(orgId, s.project) : null;
      pipeline = await repo.ensurePipeline(db, { id: newId("pl"), orgId, name: s.pipeline, projectId, description: "", namespace: s.namespace ?? "" });
    }
    const retried = s.requestId ? await repo.findRunByRequest(db, pipeline.id, s.requestId) : s.externalId ? await repo.findRunByExternalId(db, orgId, s.externalId) : undefined;
    if (retried) return runView(retried);
    const id = newId("plr");
    await repo.insertRun(db, {
      id,
      orgId,
      pipelineId: pipeline.id,
      status: "running",
      startTime: s.at ?? now(),
      trigger: s.trigger,
      params: s.params,
      facets: s.facets ?? {},
      requestId: s.requestId || null,
      externalId: s.externalId ?? null,
    });
    // Inserted, or a concurrent retry's run found by the same keys.
    const row =
      (await repo.findRun(db, orgId, id)) ??
      (s.requestId ? await repo.findRunByRequest(db, pipeline.id, s.requestId) : s.externalId ? await repo.findRunByExternalId(db, orgId, s.externalId) : undefined);
    if (!row) throw new Error(`pipeline run of "${s.pipeline}" vanished right after its insert`);
    return runView(row);
  }

  /** Ends a run (the first end wins) and the steps it leaves open: pending ones skipped, running ones failed (run failed or aborted) or skipped. */
  const finish = (orgId: string, id: string, status: PipelineRunStatus, at = now()) => end(orgId, id, status, at, "open");

  /**
   * Ends a run from an OpenLineage event: only its pending steps are skipped.
   * Its running steps wait for their own events, which may arrive after the
   * parent's (events come out of order), and the first end of a step wins.
   */
  const finishFromEvent = (orgId: string, id: string, status: PipelineRunStatus, at: Date) => end(orgId, id, status, at, "pending");

  async function end(orgId: string, id: string, status: PipelineRunStatus, at: Date, close: "open" | "pending"): Promise<RunView> {
    const run = await findRun(orgId, id);
    await db.transaction().execute(async (trx) => {
      await repo.finishRun(trx, run.id, status, at);
      if (close === "open") await steps.closeOpenSteps(trx, run.id, status !== "succeeded", at);
      else await steps.skipPending(trx, run.id, "all", at);
    });
    return runView(await findRun(orgId, id));
  }

  async function listRuns(orgId: string, pipeline: string, q: { pageSize: number; pageToken: string }): Promise<Page<RunView>> {
    const p = await mustFind(orgId, pipeline);
    const beforeSeq = q.pageToken ? decodeToken(q.pageToken, isSafeInt) : undefined;
    const page = pageOf(await repo.listRuns(db, p.id, beforeSeq, q.pageSize + 1), q.pageSize, (last) => last.seq);
    const counts = await repo.stepCounts(db, page.items.map((r) => r.id));
    return { items: page.items.map((r) => ({ ...r, stepCounts: counts.get(r.id) ?? {} })), nextPageToken: page.nextPageToken };
  }

  /** A run with its steps (instances together) in topological order, and the edges between them. */
  async function dag(orgId: string, id: string): Promise<{ run: RunView; steps: StepView[]; edges: StepEdge[] }> {
    const run = await runView(await findRun(orgId, id));
    const instances = await steps.stepsOfRun(db, run.id, MAX_INSTANCES_PER_RUN);
    const edges = await steps.edgesOfRun(db, run.id, MAX_EDGES_PER_RUN);
    const ioRows = await steps.ioOfRun(db, run.id, MAX_INSTANCES_PER_RUN * 10);
    const views = await io.views(orgId, ioRows);
    const byName = new Map<string, StepView>();
    for (const i of instances) {
      const s = byName.get(i.name) ?? { name: i.name, status: "pending" as StepStatus, startTime: null, endTime: null, upstream: [], instances: [], byStatus: {}, inputs: [], outputs: [] };
      s.instances.push(i);
      s.byStatus[i.status] = (s.byStatus[i.status] ?? 0) + 1;
      if (i.startTime && (!s.startTime || i.startTime < s.startTime)) s.startTime = i.startTime;
      if (i.endTime && (!s.endTime || i.endTime > s.endTime)) s.endTime = i.endTime;
      byName.set(i.name, s);
    }
    const instanceName = new Map(instances.map((i) => [i.id, i.name]));
    const seen = new Set<string>();
    for (const r of ioRows) {
      const s = byName.get(instanceName.get(r.stepId) ?? "");
      const v: IoView | undefined = views.get(r.refKey);
      const key = `${s?.name}/${r.direction}/${r.refKey}`;
      if (!s || !v || seen.has(key)) continue;
      seen.add(key);
      const list = r.direction === "in" ? s.inputs : s.outputs;
      if (list.length < 1000) list.push(v);
    }
    for (const e of edges) if (!e.fromData) byName.get(e.to)?.upstream.push(e.from);
    for (const s of byName.values()) s.status = overall(s.instances.map((i) => i.status));
    const { order } = layered([...byName.keys()], edges);
    return { run, steps: order.map((name) => byName.get(name) as StepView), edges };
  }

  return { create, get, list, findRun, start, finish, finishFromEvent, listRuns, dag };
}
