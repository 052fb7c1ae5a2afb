/**
 * Dataset versions: commit (see dataset-commit.ts) and every read. Reads see
 * only committed versions of the caller's organisation.
 */
import * as repo from "../db/datasets-repo.js";
import type { VersionKey, VersionWithName } from "../db/datasets-repo.js";
import type { ArtefactRow } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { createDatasetCommitter, type CreateDatasetInput, type DatasetCommitDeps } from "./dataset-commit.js";
import { type ArtefactView, type OpenedArtefact, openArtefactBytes, toArtefactView } from "./artefacts.js";
import { NotFoundError } from "./errors.js";
import { decodeToken, encodeToken, isSafeInt, isString, type Page } from "./page-tokens.js";

export interface DatasetVersionView {
  name: string;
  version: string;
  description: string;
  metadata: Record<string, string>;
  artefacts: ArtefactView[];
  derivedFrom: VersionKey[];
  createdAt: Date;
  totalSize: number;
  artefactCount: number;
}

export interface LineageGraph {
  nodes: { ref: VersionKey; createdAt: Date }[];
  edges: { parent: VersionKey; child: VersionKey }[];
}

export type DatasetService = ReturnType<typeof createDatasetService>;

const MAX_LINEAGE_DEPTH = 100;

export function createDatasetService(deps: DatasetCommitDeps & { store: ObjectStore }) {
  const { db, store } = deps;
  const committer = createDatasetCommitter(deps);

  async function mustFindVersion(orgId: string, key: VersionKey): Promise<VersionWithName> {
    const found = await repo.findVersion(db, orgId, key);
    if (found) return found;
    const what = key.version ? `dataset "${key.name}" version "${key.version}"` : `dataset "${key.name}"`;
    throw new NotFoundError(`${what} not found`);
  }

  async function view(orgId: string, version: VersionWithName, artefacts: ArtefactRow[] | undefined): Promise<DatasetVersionView> {
    const parents = await repo.parentsOf(db, orgId, [version.id]);
    return toView(version, artefacts, parents.get(version.id) ?? []);
  }

  /** Commits a version (see dataset-commit.ts for the protocol and its errors). */
  async function create(orgId: string, input: CreateDatasetInput): Promise<DatasetVersionView> {
    const versionId = await committer.commit(orgId, input);
    const [version] = await repo.versionsByIds(db, orgId, [versionId]);
    if (!version) throw new Error(`version ${versionId} vanished right after its commit`);
    return view(orgId, version, await repo.listArtefacts(db, orgId, versionId));
  }

  /** One version with its artefacts; the latest when `key.version` is empty. NotFoundError otherwise. */
  async function get(orgId: string, key: VersionKey): Promise<DatasetVersionView> {
    const version = await mustFindVersion(orgId, key);
    return view(orgId, version, await repo.listArtefacts(db, orgId, version.id));
  }

  async function list(orgId: string, opts: { prefix: string; pageSize: number; pageToken: string }): Promise<Page<repo.DatasetListing>> {
    const afterName = opts.pageToken ? decodeToken(opts.pageToken, isString) : undefined;
    const rows = await repo.listDatasets(db, orgId, { prefix: opts.prefix, afterName, limit: opts.pageSize + 1 });
    const items = rows.slice(0, opts.pageSize);
    const last = items.at(-1);
    return { items, nextPageToken: rows.length > opts.pageSize && last ? encodeToken(last.name) : "" };
  }

  async function listVersions(orgId: string, opts: { name: string; pageSize: number; pageToken: string }): Promise<Page<DatasetVersionView>> {
    const beforeSeq = opts.pageToken ? decodeToken(opts.pageToken, isSafeInt) : undefined;
    const rows = await repo.listVersions(db, orgId, { name: opts.name, beforeSeq, limit: opts.pageSize + 1 });
    if (rows.length === 0 && !opts.pageToken && !(await repo.datasetExists(db, orgId, opts.name))) {
      throw new NotFoundError(`dataset "${opts.name}" not found`);
    }
    const page = rows.slice(0, opts.pageSize);
    const parents = await repo.parentsOf(db, orgId, page.map((v) => v.id));
    const last = page.at(-1);
    return {
      items: page.map((v) => toView(v, undefined, parents.get(v.id) ?? [])),
      nextPageToken: rows.length > opts.pageSize && last ? encodeToken(last.seq) : "",
    };
  }

  /** Ancestors and descendants of a version, up to `depth` generations each way (0: all, capped). */
  async function lineage(orgId: string, key: VersionKey, depth: number): Promise<LineageGraph> {
    const start = await mustFindVersion(orgId, key);
    const limit = depth > 0 ? Math.min(depth, MAX_LINEAGE_DEPTH) : MAX_LINEAGE_DEPTH;
    const edges = [
      ...(await repo.lineageEdges(db, orgId, start.id, "ancestors", limit)),
      ...(await repo.lineageEdges(db, orgId, start.id, "descendants", limit)),
    ];
    const ids = new Set([start.id, ...edges.flatMap((e) => [e.parentId, e.childId])]);
    const versions = new Map((await repo.versionsByIds(db, orgId, [...ids])).map((v) => [v.id, v]));
    const ref = (id: string): VersionKey => {
      const v = versions.get(id);
      return { name: v?.name ?? "", version: v?.version ?? "" };
    };
    return {
      nodes: [...versions.values()].map((v) => ({ ref: { name: v.name, version: v.version }, createdAt: v.createdAt })),
      edges: edges.map((e) => ({ parent: ref(e.parentId), child: ref(e.childId) })),
    };
  }

  /** An artefact's description and its bytes from `offset`. NotFoundError, InvalidInputError (offset past the end), DataLossError. */
  async function openArtefact(orgId: string, key: VersionKey, path: string, offset: number): Promise<OpenedArtefact> {
    const version = await mustFindVersion(orgId, key);
    const row = await repo.findArtefact(db, orgId, version.id, path);
    if (!row) throw new NotFoundError(`dataset "${version.name}" version "${version.version}" has no artefact "${path}"`);
    return openArtefactBytes(store, orgId, toArtefactView(row), offset, `dataset "${version.name}@${version.version}"`);
  }

  return { create, get, list, listVersions, lineage, openArtefact };
}

function toView(version: VersionWithName, artefacts: ArtefactRow[] | undefined, parents: VersionKey[]): DatasetVersionView {
  return {
    name: version.name,
    version: version.version,
    description: version.description,
    metadata: version.metadata,
    artefacts: (artefacts ?? []).map(toArtefactView),
    derivedFrom: parents,
    createdAt: version.createdAt,
    totalSize: version.totalSize,
    artefactCount: version.artefactCount,
  };
}
