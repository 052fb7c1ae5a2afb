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

interface Found {
  /** null: the organisation (a model or pipeline in no project). */
  projectId: string | null;
}

export function createScopeResolver(deps: { db: Kysely<Database> }) {
  const { db } = deps;
  // What was found, by kind, organisation and id or name: none of these answers ever changes.
  const found = new Map<string, Found>();

  /** The cached answer for (kind, orgId, id), else what `find` says, kept when there is one. */
  async function lookUp(kind: string, orgId: string, id: string, find: () => Promise<Found | undefined>): Promise<Found | undefined> {
    const key = `${kind}/${orgId}/${id}`;
    const known = found.get(key);
    if (known) return known;
    if (unstorable(id)) return undefined;
    const answer = await find();
    if (answer) {
      if (found.size >= CACHE_LIMIT) found.clear();
      found.set(key, answer);
    }
    return answer;
  }

  const project = (projectId: string | null | undefined): Found | undefined => (projectId === undefined ? undefined : { projectId });

  /** The project (id) a run belongs to; NotFoundError for an unknown run or one of another organisation. */
  async function projectOfRun(orgId: string, runId: string): Promise<string> {
    const run = await lookUp("run", orgId, runId, async () => project(await projectOfRunRow(db, orgId, runId)));
    if (!run?.projectId) throw new NotFoundError(`run ${JSON.stringify(runId)} not found`);
    return run.projectId;
  }

  /** A project's id by name; undefined when the organisation has none (yet). */
  async function projectId(orgId: string, name: string): Promise<string | undefined> {
    return (await lookUp("project", orgId, name, async () => project(await projectIdByName(db, orgId, name))))?.projectId ?? undefined;
  }

  /** The project (id) a grant is on; undefined for the organisation or when there is no such grant. Not cached: grants are revoked. */
  async function projectOfGrant(orgId: string, grantId: string): Promise<string | undefined> {
    if (unstorable(grantId)) return undefined;
    return (await findGrantById(db, orgId, grantId))?.projectId ?? undefined;
  }

  /** A model's project id (null: none), or undefined when the organisation has no such model. Models never change project. */
  const projectOfModel = (orgId: string, name: string) => lookUp("model", orgId, name, async () => project((await findModel(db, orgId, name))?.projectId));

  /** A pipeline's project id (null: none), or undefined when there is no such pipeline. Pipelines never change project. */
  const projectOfPipeline = (orgId: string, name: string) => lookUp("pipeline", orgId, name, async () => project((await findPipeline(db, orgId, name))?.projectId));

  /** The project id (null: none) of a pipeline run's pipeline; NotFoundError for a run the organisation does not have. */
  async function projectOfPipelineRun(orgId: string, id: string): Promise<string | null> {
    const run = await lookUp("pipeline-run", orgId, id, async () => project((await findPipelineRun(db, orgId, id))?.projectId));
    if (!run) throw new NotFoundError(`pipeline run "${id}" not found`);
    return run.projectId;
  }

  async function projectOfStep(orgId: string, id: string): Promise<string | null> {
    const step = await lookUp("step", orgId, id, async () => {
      const row = await findStep(db, orgId, id);
      return row ? { projectId: await projectOfPipelineRun(orgId, row.pipelineRunId) } : undefined;
    });
    if (!step) throw new NotFoundError(`step "${id}" not found`);
    return step.projectId;
  }

  return { projectOfRun, projectId, projectOfGrant, projectOfModel, projectOfPipeline, projectOfPipelineRun, projectOfStep };
}
