/**
 * Where a request's resource lives, for the policy: the project of a run, the
 * id of a project named in a request, the scope of a grant. Runs never move
 * and projects are never renamed or deleted, so answers found are kept (up to
 * a bound); a name not found is asked again next time, as it may be created.
 */
import type { Kysely } from "kysely";
import { findGrantById, projectIdByName } from "../../db/grants-repo.js";
import { projectOfRun as projectOfRunRow } from "../../db/experiments-repo.js";
import { findModel } from "../../db/models-repo.js";
import { findStep } from "../../db/pipeline-steps-repo.js";
import { findPipeline, findRun as findPipelineRun } from "../../db/pipelines-repo.js";
import type { Database } from "../../db/schema.js";
import { NotFoundError } from "../errors.js";

export type ScopeResolver = ReturnType<typeof createScopeResolver>;

const CACHE_LIMIT = 100_000;

/**
 * PostgreSQL text cannot hold NUL: a query naming one fails, which would turn
 * a bad request into INTERNAL before its handler validates it. No row can
 * have such a name, so the resolver answers as for any unknown name.
 */
const unstorable = (text: string) => text.includes("\u0000");

export function createScopeResolver(deps: { db: Kysely<Database> }) {
  const { db } = deps;
  const runs = new Map<string, string>();
  const projects = new Map<string, string>();
  const models = new Map<string, { projectId: string | null }>();
  const pipelines = new Map<string, { projectId: string | null }>();
  // Pipeline runs and steps (by id) to their pipeline's project.
  const pipelineRuns = new Map<string, { projectId: string | null }>();

  function remember(map: Map<string, string>, key: string, value: string): void {
    if (map.size >= CACHE_LIMIT) map.clear();
    map.set(key, value);
  }

  /** The project (id) a run belongs to; NotFoundError for an unknown run or one of another organisation. */
  async function projectOfRun(orgId: string, runId: string): Promise<string> {
    const key = `${orgId}/${runId}`;
    const known = runs.get(key);
    if (known) return known;
    if (unstorable(runId)) throw new NotFoundError(`run ${JSON.stringify(runId)} not found`);
    const projectId = await projectOfRunRow(db, orgId, runId);
    if (!projectId) throw new NotFoundError(`run "${runId}" not found`);
    remember(runs, key, projectId);
    return projectId;
  }

  /** A project's id by name; undefined when the organisation has none (yet). */
  async function projectId(orgId: string, name: string): Promise<string | undefined> {
    const key = `${orgId}/${name}`;
    const known = projects.get(key);
    if (known) return known;
    if (unstorable(name)) return undefined;
    const id = await projectIdByName(db, orgId, name);
    if (id) remember(projects, key, id);
    return id;
  }

  /** The project (id) a grant is on; undefined for the organisation or when there is no such grant. */
  async function projectOfGrant(orgId: string, grantId: string): Promise<string | undefined> {
    if (unstorable(grantId)) return undefined;
    return (await findGrantById(db, orgId, grantId))?.projectId ?? undefined;
  }

  /** A model's project id (null: none), or undefined when the organisation has no such model. Models never change project. */
  async function projectOfModel(orgId: string, name: string): Promise<{ projectId: string | null } | undefined> {
    const key = `${orgId}/${name}`;
    const known = models.get(key);
    if (known) return known;
    if (unstorable(name)) return undefined;
    const row = await findModel(db, orgId, name);
    if (!row) return undefined;
    const found = { projectId: row.projectId };
    if (models.size >= CACHE_LIMIT) models.clear();
    models.set(key, found);
    return found;
  }

  /** A pipeline's project id (null: none), or undefined when there is no such pipeline. Pipelines never change project. */
  async function projectOfPipeline(orgId: string, name: string): Promise<{ projectId: string | null } | undefined> {
    if (unstorable(name)) return undefined;
    const key = `${orgId}/${name}`;
    const known = pipelines.get(key);
    if (known) return known;
    const row = await findPipeline(db, orgId, name);
    if (!row) return undefined;
    const found = { projectId: row.projectId };
    if (pipelines.size >= CACHE_LIMIT) pipelines.clear();
    pipelines.set(key, found);
    return found;
  }

  /** The project id (null: none) of a pipeline run's pipeline; NotFoundError for a run the organisation does not have. Runs never move. */
  async function projectOfPipelineRun(orgId: string, id: string): Promise<string | null> {
    const key = `${orgId}/${id}`;
    const known = pipelineRuns.get(key);
    if (known) return known.projectId;
    const run = unstorable(id) ? undefined : await findPipelineRun(db, orgId, id);
    if (!run) throw new NotFoundError(`pipeline run "${id}" not found`);
    if (pipelineRuns.size >= CACHE_LIMIT) pipelineRuns.clear();
    pipelineRuns.set(key, { projectId: run.projectId });
    return run.projectId;
  }

  async function projectOfStep(orgId: string, id: string): Promise<string | null> {
    const key = `${orgId}/${id}`;
    const known = pipelineRuns.get(key);
    if (known) return known.projectId;
    const step = unstorable(id) ? undefined : await findStep(db, orgId, id);
    if (!step) throw new NotFoundError(`step "${id}" not found`);
    const projectId = await projectOfPipelineRun(orgId, step.pipelineRunId);
    pipelineRuns.set(key, { projectId });
    return projectId;
  }

  return { projectOfRun, projectId, projectOfGrant, projectOfModel, projectOfPipeline, projectOfPipelineRun, projectOfStep };
}
