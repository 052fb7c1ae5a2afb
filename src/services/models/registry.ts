/**
 * Registered models and their versions. A version is numbered under a lock
 * on its model's row and never changes but for its description and tags. Its
 * files are rows naming content-addressed blobs: taken from a run's artefacts
 * (the same blobs, no byte copied) or committed from uploads by the protocol
 * datasets use (upload-commit.ts), all or none.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { findProject } from "../../db/experiments-repo.js";
import { projectNames } from "../../db/grants-repo.js";
import { aliasesByVersion, aliasesOf, findAlias } from "../../db/model-aliases-repo.js";
import * as repo from "../../db/models-repo.js";
import type { ModelRow, ModelVersionRow } from "../../db/models-repo.js";
import { isUniqueViolation } from "../../db/pg-errors.js";
import type { Database } from "../../db/schema.js";
import { AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError } from "../errors.js";
import { newId } from "../ids.js";
import { decodeToken, isSafeInt, isString, type Page, pageOf } from "../page-tokens.js";
import { mustFindRun } from "../runs.js";
import { type ArtefactSource, type StagedArtefact, type UploadCommitter } from "../upload-commit.js";
import type { ModelView, NewModelVersion, VersionSelector, VersionView } from "./types.js";

export const MAX_FILES_PER_VERSION = 10_000;
/** Files a version lists inline; ListModelFiles pages through the rest. */
export const FILES_INLINE = 1000;

export interface ModelRegistryDeps {
  db: Kysely<Database>;
  committer: UploadCommitter;
  now: () => Date;
  /** The id of a project by name, created when absent (a model registered into a new project). */
  ensureProject: (orgId: string, name: string) => Promise<string>;
}

export type ModelRegistry = ReturnType<typeof createModelRegistry>;

export function createModelRegistry(deps: ModelRegistryDeps) {
  const { db, committer, now } = deps;

  async function mustFindModel(orgId: string, name: string): Promise<ModelRow> {
    const model = await repo.findModel(db, orgId, name);
    if (!model) throw new NotFoundError(`model "${name}" not found`);
    return model;
  }

  async function view(model: ModelRow, project?: string): Promise<ModelView> {
    return { ...model, project: project ?? (await projectName(model)), aliases: await aliasesOf(db, model.id) };
  }

  async function projectName(model: ModelRow): Promise<string> {
    if (!model.projectId) return "";
    return (await projectNames(db, model.orgId, [model.projectId])).get(model.projectId) ?? "";
  }

  /** Creates a model; a retry with the same project and description returns it, anything else is AlreadyExistsError. */
  async function createModel(orgId: string, m: { name: string; project: string; description: string; tags: Record<string, string> }): Promise<ModelView> {
    const projectId = m.project ? await deps.ensureProject(orgId, m.project) : null;
    const model = await repo.ensureModel(db, { id: newId("mdl"), orgId, name: m.name, projectId, description: m.description, tags: m.tags });
    if (model.projectId !== projectId || model.description !== m.description) {
      throw new AlreadyExistsError(`model "${m.name}" exists already with another project or description; choose another name, or UpdateRegisteredModel`);
    }
    return view(model, m.project);
  }

  const getModel = async (orgId: string, name: string) => view(await mustFindModel(orgId, name));

  async function listModels(orgId: string, q: { project: string; prefix: string; visibleProjectIds?: string[]; pageSize: number; pageToken: string }): Promise<Page<ModelView>> {
    const afterName = q.pageToken ? decodeToken(q.pageToken, isString) : undefined;
    const project = q.project ? await findProject(db, orgId, q.project) : undefined;
    if (q.project && !project) return { items: [], nextPageToken: "" };
    const projectId = project?.id;
    const rows = await repo.listModels(db, orgId, { projectId, projectIds: q.visibleProjectIds, prefix: q.prefix, afterName, limit: q.pageSize + 1 });
    const page = pageOf(rows, q.pageSize, (last) => last.name);
    return { items: await Promise.all(page.items.map((m) => view(m))), nextPageToken: page.nextPageToken };
  }

  async function updateModel(orgId: string, name: string, change: { description?: string; setTags: Record<string, string>; removeTags: string[] }): Promise<ModelView> {
    await db.transaction().execute(async (trx) => {
      const model = await repo.lockModel(trx, orgId, name);
      if (!model) throw new NotFoundError(`model "${name}" not found`);
      const tags = { ...model.tags, ...change.setTags };
      for (const key of change.removeTags) delete tags[key];
      await repo.updateModel(trx, model.id, { description: change.description, tags }, now());
    });
    return getModel(orgId, name);
  }

  async function versionView(row: ModelVersionRow): Promise<VersionView> {
    const files = await repo.listFiles(db, row.id, { prefix: "", limit: FILES_INLINE });
    const aliases = (await aliasesByVersion(db, [row.modelId])).get(`${row.modelId}@${row.version}`) ?? [];
    return { ...row, files, aliases, sortMetric: null };
  }

  async function mustFindVersion(orgId: string, name: string, selector: VersionSelector): Promise<ModelVersionRow> {
    const model = await mustFindModel(orgId, name);
    let number: number;
    if ("alias" in selector) {
      const alias = await findAlias(db, model.id, selector.alias);
      if (!alias) throw new NotFoundError(`model "${name}" has no alias "${selector.alias}"`);
      number = alias.version;
    } else {
      number = selector.version;
    }
    const row = await repo.findVersion(db, model.id, number);
    if (!row) throw new NotFoundError(`model "${name}" has no version ${number}`);
    return row;
  }

  const getVersion = async (orgId: string, name: string, selector: VersionSelector) => versionView(await mustFindVersion(orgId, name, selector));

  /**
   * Versions for a list: with their aliases (one query for the page) but no
   * files, which `file_count` counts: a page of 1,000 versions would otherwise
   * carry up to 1,000,000 of them. GetModelVersion and ListModelFiles list them.
   */
  async function summaries<T extends ModelVersionRow>(rows: T[]): Promise<(T & { files: []; aliases: string[] })[]> {
    const named = await aliasesByVersion(db, [...new Set(rows.map((r) => r.modelId))]);
    return rows.map((row) => ({ ...row, files: [], aliases: named.get(`${row.modelId}@${row.version}`) ?? [] }));
  }

  async function listVersions(orgId: string, name: string, q: { pageSize: number; pageToken: string }): Promise<Page<VersionView>> {
    const model = await mustFindModel(orgId, name);
    const before = q.pageToken ? decodeToken(q.pageToken, isSafeInt) : undefined;
    const page = pageOf(await repo.listVersions(db, model.id, before, q.pageSize + 1), q.pageSize, (last) => last.version);
    return { items: (await summaries(page.items)).map((v) => ({ ...v, sortMetric: null })), nextPageToken: page.nextPageToken };
  }

  async function listFiles(orgId: string, name: string, version: number, q: { prefix: string; pageSize: number; pageToken: string }) {
    const row = await mustFindVersion(orgId, name, { version });
    const afterPath = q.pageToken ? decodeToken(q.pageToken, isString) : undefined;
    return pageOf(await repo.listFiles(db, row.id, { prefix: q.prefix, afterPath, limit: q.pageSize + 1 }), q.pageSize, (last) => last.path);
  }

  async function updateVersion(orgId: string, name: string, version: number, change: { description?: string; setTags: Record<string, string>; removeTags: string[] }) {
    const row = await mustFindVersion(orgId, name, { version });
    const tags = { ...row.tags, ...change.setTags };
    for (const key of change.removeTags) delete tags[key];
    await repo.updateVersion(db, row.id, { description: change.description, tags });
    return getVersion(orgId, name, { version });
  }

  /**
   * Registers the next version. A request_id seen before returns the version it
   * made (`created: false`), unless the request differs (AlreadyExistsError).
   */
  async function createVersion(orgId: string, input: NewModelVersion): Promise<{ version: VersionView; created: boolean }> {
    const model = await repo.findModel(db, orgId, input.model);
    if (!model && !input.createModel) throw new NotFoundError(`model "${input.model}" not found: create it first, or set create_model`);
    // A model wanted but missing is created in the version's transaction: a refused version leaves no empty model behind.
    const projectId = !model && input.project ? await deps.ensureProject(orgId, input.project) : null;
    const lockOrCreate = async (trx: Kysely<Database>) => {
      const locked = await repo.lockModel(trx, orgId, input.model);
      if (locked || !input.createModel) return locked;
      await repo.ensureModel(trx, { id: newId("mdl"), orgId, name: input.model, projectId, description: "", tags: {} });
      return repo.lockModel(trx, orgId, input.model);
    };
    const modelId = async () => (model ?? (await mustFindModel(orgId, input.model))).id;
    const runId = input.source.kind === "run" ? input.source.runId : input.runId;
    if (runId) await mustFindRun(db, orgId, runId);
    let staged: StagedArtefact[] = [];
    let material: { path: string; sha256: string }[];
    if (input.source.kind === "run") {
      material = await repo.runFilesUnder(db, orgId, input.source.runId, input.source.prefix, MAX_FILES_PER_VERSION + 1);
      if (material.length === 0) throw new InvalidInputError("run_artefacts.path_prefix", `run "${input.source.runId}" has no artefacts under "${input.source.prefix}": log them first`);
      if (material.length > MAX_FILES_PER_VERSION) throw new InvalidInputError("run_artefacts.path_prefix", `more than ${MAX_FILES_PER_VERSION} artefacts lie under "${input.source.prefix}"; a version holds at most ${MAX_FILES_PER_VERSION} files`);
    } else {
      staged = await committer.resolve(orgId, input.source.files, MAX_FILES_PER_VERSION);
      material = staged.map((a) => ({ path: a.path, sha256: a.upload.sha256 ?? "" }));
    }
    const print = fingerprint(input, runId, material);
    const retried = input.requestId && model ? await repo.findVersionByRequest(db, model.id, input.requestId) : undefined;
    if (retried) return { version: await versionView(sameRequest(retried, print)), created: false };

    const versionId = newId("mv");
    const insert = async (trx: Kysely<Database>) => {
      const locked = await lockOrCreate(trx);
      if (!locked) throw new NotFoundError(`model "${input.model}" not found`);
      const number = locked.latestVersion + 1;
      await repo.insertVersion(trx, {
        id: versionId,
        orgId,
        modelId: locked.id,
        version: number,
        runId: runId || null,
        fromRunArtefacts: input.source.kind === "run",
        framework: input.framework,
        signature: input.signature,
        description: input.description,
        tags: input.tags,
        requestId: input.requestId || null,
        fingerprint: print,
        createdBy: input.createdBy,
      });
      if (input.source.kind === "run") await repo.insertFilesFromRun(trx, versionId, orgId, input.source.runId, input.source.prefix);
      else await repo.insertFiles(trx, versionId, orgId, staged.map((a) => ({ path: a.path, sha256: a.upload.sha256 ?? "", size: a.upload.bytesReceived, mediaType: a.upload.mediaType })));
      await repo.setVersionTotals(trx, versionId);
      await repo.updateModel(trx, locked.id, { latestVersion: number }, now());
      return number;
    };
    // A concurrent call with the same request_id won the race: answer as its retry. It shows as the
    // request_id's unique index, or (from uploads) as the uploads it committed first (ConflictError).
    const recover = async (error: unknown) => {
      if (!(isUniqueViolation(error) || error instanceof ConflictError) || !input.requestId) return undefined;
      const winner = await repo.findVersionByRequest(db, await modelId(), input.requestId);
      return winner ? sameRequest(winner, print).version : undefined;
    };
    // Files from uploads commit by the upload protocol, which recovers as it would for datasets; from a run, alike here.
    const number =
      input.source.kind === "uploads"
        ? await committer.commit(orgId, staged, "CreateModelVersion", { insert, recover })
        : await db.transaction().execute(insert).catch(async (error: unknown) => {
            const recovered = await recover(error);
            if (recovered === undefined) throw error;
            return recovered;
          });
    const row = await repo.findVersion(db, await modelId(), number);
    if (!row) throw new Error(`version ${number} of model ${input.model} vanished right after its commit`);
    return { version: await versionView(row), created: row.id === versionId };
  }

  function sameRequest(existing: ModelVersionRow, print: string): ModelVersionRow {
    if (existing.fingerprint !== print) {
      throw new AlreadyExistsError(`request_id "${existing.requestId}" made version ${existing.version} of "${existing.model}" from another request; use a new request_id`);
    }
    return existing;
  }

  return { createModel, getModel, listModels, updateModel, createVersion, getVersion, listVersions, listFiles, updateVersion, mustFindModel, mustFindVersion, summaries };
}

/** Digest of what a version is made of, to tell a retry from a different request under the same request_id. */
function fingerprint(input: NewModelVersion, runId: string, files: { path: string; sha256: string }[]): string {
  const source = input.source.kind === "run" ? { run: input.source.runId, prefix: input.source.prefix } : { uploads: true };
  const canonical = {
    source,
    runId,
    framework: input.framework,
    signature: input.signature,
    description: input.description,
    tags: Object.entries(input.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    files: files.map((f) => [f.path.slice(input.source.kind === "run" ? input.source.prefix.length : 0), f.sha256]).sort(),
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

export type { ArtefactSource };
