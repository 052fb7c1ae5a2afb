/**
 * The model registry: models, versions, files, aliases and their history,
 * search. The capability's only door.
 */
import type { Kysely } from "kysely";
import { searchVersions, type VersionFilter } from "../../db/model-search-repo.js";
import * as repo from "../../db/models-repo.js";
import type { Database } from "../../db/schema.js";
import type { ObjectStore } from "../../storage/object-store.js";
import { type ByteRange, type OpenedArtefact, openArtefactBytes, toArtefactView } from "../artefacts.js";
import { NotFoundError } from "../errors.js";
import { decodeToken, encodeToken, isSafeInt, type Page } from "../page-tokens.js";
import type { UploadCommitter } from "../upload-commit.js";
import { createModelAliases } from "./aliases.js";
import { createModelRegistry } from "./registry.js";
import type { VersionSelector, VersionView } from "./types.js";

export type { AliasMoveRow, AliasRow, ModelFileRow, ModelView, NewModelVersion, VersionSelector, VersionView } from "./types.js";
export { FILES_INLINE, MAX_FILES_PER_VERSION } from "./registry.js";

/** Search pages by offset (sorting by a metric has no stable cursor); this far and no further. */
const MAX_SEARCH_OFFSET = 100_000;

export type ModelService = ReturnType<typeof createModelService>;

export function createModelService(deps: {
  db: Kysely<Database>;
  store: ObjectStore;
  committer: UploadCommitter;
  now: () => Date;
  ensureProject: (orgId: string, name: string) => Promise<string>;
}) {
  const { db, store } = deps;
  const registry = createModelRegistry(deps);
  const aliases = createModelAliases(deps);

  async function search(orgId: string, f: Omit<VersionFilter, "offset" | "limit"> & { pageSize: number; pageToken: string }): Promise<Page<VersionView>> {
    const offset = f.pageToken ? decodeToken(f.pageToken, (v): v is number => isSafeInt(v) && v >= 0 && v <= MAX_SEARCH_OFFSET) : 0;
    const rows = await searchVersions(db, orgId, { ...f, offset, limit: f.pageSize + 1 });
    const items = await registry.summaries(rows.slice(0, f.pageSize));
    const next = offset + items.length;
    return { items, nextPageToken: rows.length > f.pageSize && next <= MAX_SEARCH_OFFSET ? encodeToken(next) : "" };
  }

  /** A file's description and its bytes from `offset`. NotFoundError, InvalidInputError (offset past the end), DataLossError. */
  async function openFile(orgId: string, name: string, selector: VersionSelector, path: string, range: ByteRange): Promise<OpenedArtefact> {
    const version = await registry.mustFindVersion(orgId, name, selector);
    const file = await repo.findFile(db, version.id, path);
    if (!file) throw new NotFoundError(`version ${version.version} of model "${name}" has no file "${path}"`);
    return openArtefactBytes({ db, store }, orgId, toArtefactView(file), range, `model "${name}" version ${version.version}`);
  }

  return { ...registry, setAlias: aliases.set, deleteAlias: aliases.remove, aliasHistory: aliases.history, search, openFile };
}
