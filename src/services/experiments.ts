/**
 * Projects and the experiments in them: the containers of runs. Creating
 * either is idempotent under retry (same description); runs.ts creates them
 * on demand through `ensure`.
 */
import type { Kysely } from "kysely";
import * as repo from "../db/experiments-repo.js";
import type { Database, ExperimentRow, ProjectRow } from "../db/schema.js";
import { AlreadyExistsError, NotFoundError } from "./errors.js";
import { newId } from "./ids.js";
import { decodeToken, encodeToken, isString, type Page } from "./page-tokens.js";

export interface ProjectView {
  name: string;
  description: string;
  createdAt: Date;
}

export interface ExperimentView extends ProjectView {
  project: string;
}

export type ExperimentService = ReturnType<typeof createExperimentService>;

export function createExperimentService(deps: { db: Kysely<Database> }) {
  const { db } = deps;

  async function mustFindProject(orgId: string, name: string): Promise<ProjectRow> {
    const project = await repo.findProject(db, orgId, name);
    if (!project) throw new NotFoundError(`project "${name}" not found`);
    return project;
  }

  /** The id of the project by that name, created (with an empty description) when absent. */
  async function ensureProject(orgId: string, name: string): Promise<string> {
    return (await repo.ensureProject(db, { id: newId("prj"), orgId, name, description: "" })).id;
  }

  /** The project and experiment by those names, created (with an empty description) when absent. */
  async function ensure(orgId: string, project: string, experiment: string): Promise<{ project: ProjectRow; experiment: ExperimentRow }> {
    const p = await repo.ensureProject(db, { id: newId("prj"), orgId, name: project, description: "" });
    const e = await repo.ensureExperiment(db, { id: newId("exp"), orgId, projectId: p.id, name: experiment, description: "" });
    return { project: p, experiment: e };
  }

  /** Creates a project; returns the existing one on a retry, AlreadyExistsError when it has another description. */
  async function createProject(orgId: string, input: { name: string; description: string }): Promise<ProjectView> {
    const project = await repo.ensureProject(db, { id: newId("prj"), orgId, ...input });
    if (project.description !== input.description) {
      throw new AlreadyExistsError(`project "${input.name}" already exists with another description`);
    }
    return project;
  }

  async function getProject(orgId: string, name: string): Promise<ProjectView> {
    return mustFindProject(orgId, name);
  }

  async function listProjects(orgId: string, opts: { pageSize: number; pageToken: string }): Promise<Page<ProjectView>> {
    const afterName = opts.pageToken ? decodeToken(opts.pageToken, isString) : undefined;
    const rows = await repo.listProjects(db, orgId, { afterName, limit: opts.pageSize + 1 });
    return pageByName(rows, opts.pageSize);
  }

  /** Creates an experiment (and its project when absent); a retry returns it, another description is AlreadyExistsError. */
  async function createExperiment(orgId: string, input: { project: string; name: string; description: string }): Promise<ExperimentView> {
    const project = await repo.ensureProject(db, { id: newId("prj"), orgId, name: input.project, description: "" });
    const row = await repo.ensureExperiment(db, { id: newId("exp"), orgId, projectId: project.id, name: input.name, description: input.description });
    if (row.description !== input.description) {
      throw new AlreadyExistsError(`experiment "${input.name}" already exists in project "${input.project}" with another description`);
    }
    return { ...row, project: project.name };
  }

  /** The experiment row by project and name; NotFoundError names whichever is missing. */
  async function mustFindExperiment(orgId: string, project: ProjectRow, name: string): Promise<ExperimentRow> {
    const row = await repo.findExperiment(db, orgId, project.id, name);
    if (!row) throw new NotFoundError(`experiment "${name}" not found in project "${project.name}"`);
    return row;
  }

  /** The experiment rows of a project by name, in the order given; NotFoundError names the first missing one. One query for any number. */
  async function mustFindExperiments(orgId: string, project: ProjectRow, names: readonly string[]): Promise<ExperimentRow[]> {
    const byName = new Map((await repo.findExperiments(db, orgId, project.id, names)).map((e) => [e.name, e]));
    return names.map((name) => {
      const row = byName.get(name);
      if (!row) throw new NotFoundError(`experiment "${name}" not found in project "${project.name}"`);
      return row;
    });
  }

  async function getExperiment(orgId: string, key: { project: string; name: string }): Promise<ExperimentView> {
    const project = await mustFindProject(orgId, key.project);
    return { ...(await mustFindExperiment(orgId, project, key.name)), project: project.name };
  }

  async function listExperiments(orgId: string, opts: { project: string; pageSize: number; pageToken: string }): Promise<Page<ExperimentView>> {
    const project = await mustFindProject(orgId, opts.project);
    const afterName = opts.pageToken ? decodeToken(opts.pageToken, isString) : undefined;
    const rows = await repo.listExperiments(db, orgId, { projectId: project.id, afterName, limit: opts.pageSize + 1 });
    const page = pageByName(rows, opts.pageSize);
    return { ...page, items: page.items.map((e) => ({ ...e, project: project.name })) };
  }

  return { ensure, ensureProject, mustFindProject, mustFindExperiment, mustFindExperiments, createProject, getProject, listProjects, createExperiment, getExperiment, listExperiments };
}

function pageByName<T extends { name: string }>(rows: T[], pageSize: number): Page<T> {
  const items = rows.slice(0, pageSize);
  const last = items.at(-1);
  return { items, nextPageToken: rows.length > pageSize && last ? encodeToken(last.name) : "" };
}
