/**
 * What runs produce (models, checkpoints, plots): uploads committed to a run
 * by the protocol in upload-commit.ts, all or none. A path holds one content
 * for the life of the run, which makes a retried call a no-op and keeps a
 * reader from ever seeing a path's bytes change under it.
 */
import type { Kysely } from "kysely";
import * as repo from "../db/run-artefacts-repo.js";
import type { Database, RunArtefactRow } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { type ArtefactView, type ByteRange, type OpenedArtefact, openArtefactBytes, toArtefactView } from "./artefacts.js";
import { AlreadyExistsError, NotFoundError } from "./errors.js";
import { decodeToken, encodeToken, isString, type Page } from "./page-tokens.js";
import { mustFindRun } from "./runs.js";
import { type ArtefactSource, artefactColumns, type StagedArtefact, type UploadCommitter } from "./upload-commit.js";

export interface RunArtefactDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  committer: UploadCommitter;
  maxArtefactsPerCall: number;
}

export type RunArtefactService = ReturnType<typeof createRunArtefactService>;

export function createRunArtefactService(deps: RunArtefactDeps) {
  const { db, store, committer } = deps;

  /**
   * Which of `staged` the run does not have yet. A path it has with the same
   * bytes is done already (a retry); with other bytes, AlreadyExistsError.
   */
  function missingFrom(runId: string, staged: readonly StagedArtefact[], stored: readonly RunArtefactRow[]): StagedArtefact[] {
    const byPath = new Map(stored.map((row) => [row.path, row]));
    return staged.filter(({ path, upload }) => {
      const have = byPath.get(path);
      if (!have) return true;
      if (have.sha256 === upload.sha256 && have.size === upload.bytesReceived) return false;
      throw new AlreadyExistsError(
        `run "${runId}" already has an artefact "${path}" with other content (sha256 ${have.sha256}); artefacts are immutable: log it under another path`,
      );
    });
  }

  /**
   * Commits uploads as artefacts of a run, all or none, and returns them as
   * stored (request order) with how many this call added. NotFoundError,
   * InvalidInputError, AlreadyExistsError, FailedPreconditionError,
   * ConflictError (retryable).
   */
  async function log(orgId: string, runId: string, sources: readonly ArtefactSource[]): Promise<{ artefacts: ArtefactView[]; added: number }> {
    await mustFindRun(db, orgId, runId);
    const staged = await committer.resolve(orgId, sources, deps.maxArtefactsPerCall);
    const paths = staged.map((a) => a.path);
    const pending = missingFrom(runId, staged, await repo.findByPaths(db, orgId, runId, paths));
    let added = 0;
    if (pending.length > 0) {
      added = await committer.commit(orgId, pending, "LogRunArtefacts", {
        async insert(trx) {
          const rows = pending.map((a) => ({ runId, orgId, ...artefactColumns(a) }));
          const inserted = await repo.insertNew(trx, rows);
          // A concurrent call took some of these paths first: fine if with these bytes (rolls back otherwise).
          if (inserted < rows.length) missingFrom(runId, pending, await repo.findByPaths(trx, orgId, runId, paths));
          return inserted;
        },
        // A concurrent identical call may have committed our uploads first: answer as a retry.
        async recover() {
          const stored = await repo.findByPaths(db, orgId, runId, paths);
          return missingFrom(runId, pending, stored).length === 0 ? 0 : undefined;
        },
      });
    }
    const stored = new Map((await repo.findByPaths(db, orgId, runId, paths)).map((row) => [row.path, row]));
    const artefacts = paths.map((path) => {
      const row = stored.get(path);
      if (!row) throw new Error(`artefact ${path} of run ${runId} vanished right after its commit`);
      return toArtefactView(row);
    });
    return { artefacts, added };
  }

  /** A run's artefacts by path, optionally under a prefix. */
  async function list(orgId: string, runId: string, opts: { prefix: string; pageSize: number; pageToken: string }): Promise<Page<ArtefactView>> {
    await mustFindRun(db, orgId, runId);
    const afterPath = opts.pageToken ? decodeToken(opts.pageToken, isString) : undefined;
    const rows = await repo.list(db, orgId, runId, { prefix: opts.prefix, afterPath, limit: opts.pageSize + 1 });
    const page = rows.slice(0, opts.pageSize);
    const last = page.at(-1);
    return { items: page.map(toArtefactView), nextPageToken: rows.length > opts.pageSize && last ? encodeToken(last.path) : "" };
  }

  /** An artefact's description and its bytes from `offset`. NotFoundError, InvalidInputError (offset past the end), DataLossError. */
  async function open(orgId: string, runId: string, path: string, range: ByteRange): Promise<OpenedArtefact> {
    await mustFindRun(db, orgId, runId);
    const [row] = await repo.findByPaths(db, orgId, runId, [path]);
    if (!row) throw new NotFoundError(`run "${runId}" has no artefact "${path}"`);
    return openArtefactBytes({ db, store }, orgId, toArtefactView(row), range, `run "${runId}"`);
  }

  return { log, list, open };
}
