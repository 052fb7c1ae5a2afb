/**
 * Dataset versions: commit (see dataset-commit.ts) and every read. Reads see
 * only committed versions of the caller's organisation.
 */
import * as repo from "../db/datasets-repo.js";
import type { VersionKey, VersionWithName } from "../db/datasets-repo.js";
import type { ObjectStore } from "../storage/object-store.js";
import { createDatasetCommitter, type CreateDatasetInput, type DatasetCommitDeps } from "./dataset-commit.js";
import { type ArtefactView, type ByteRange, type OpenedArtefact, openArtefactBytes, toArtefactView } from "./artefacts.js";
import { NotFoundError } from "./errors.js";
import { type LineageGraph, walkLineage } from "./lineage.js";
import { decodeToken, encodeToken, isSafeInt, isString, type Page } from "./page-tokens.js";
import {
  ARTEFACTS_IN_VERSION,
  countWithinBytes,
  entriesBytes,
  MAX_LINEAGE_DEPTH,
  MAX_PARENTS_LISTED_PER_VERSION,
  MAX_PARENTS_PER_VERSION,
} from "./read-limits.js";

export interface DatasetVersionView {
  name: string;
  version: string;
  description: string;
  metadata: Record<string, string>;
  /** The first ARTEFACTS_IN_VERSION artefacts by path (none in listings). */
  artefacts: ArtefactView[];
  /** The ListArtefacts token that continues after `artefacts`; "" when they are all there. */
  artefactsNextPageToken: string;
  derivedFrom: VersionKey[];
  /** How many parents the version has (derivedFrom may hold fewer in listings). */
  derivedFromCount: number;
  createdAt: Date;
  totalSize: number;
  artefactCount: number;
}

export type { LineageGraph };

export type DatasetService = ReturnType<typeof createDatasetService>;

export function createDatasetService(deps: DatasetCommitDeps & { store: ObjectStore }) {
  const { db, store } = deps;
  const committer = createDatasetCommitter(deps);

  async function mustFindVersion(orgId: string, key: VersionKey): Promise<VersionWithName> {
    const found = await repo.findVersion(db, orgId, key);
    if (found) return found;
    const what = key.version ? `dataset "${key.name}" version "${key.version}"` : `dataset "${key.name}"`;
    throw new NotFoundError(`${what} not found`);
  }

  /** A page of a version's artefacts by path; the token is the last path of the page. */
  async function artefactPage(orgId: string, versionId: string, opts: { prefix: string; pageSize: number; pageToken: string }): Promise<Page<ArtefactView>> {
    const afterPath = opts.pageToken ? decodeToken(opts.pageToken, isString) : undefined;
    const rows = await repo.listArtefacts(db, orgId, versionId, { prefix: opts.prefix, afterPath, limit: opts.pageSize + 1 });
    const page = rows.slice(0, opts.pageSize);
    const last = page.at(-1);
    return { items: page.map(toArtefactView), nextPageToken: rows.length > opts.pageSize && last ? encodeToken(last.path) : "" };
  }

  /** A version with its first page of artefacts and all its parents. */
  async function view(orgId: string, version: VersionWithName): Promise<DatasetVersionView> {
    const [artefacts, parents] = await Promise.all([
      artefactPage(orgId, version.id, { prefix: "", pageSize: ARTEFACTS_IN_VERSION, pageToken: "" }),
      repo.parentsOf(db, orgId, [version.id], MAX_PARENTS_PER_VERSION),
    ]);
    return toView(version, artefacts, parents.get(version.id));
  }

  /** Commits a version (see dataset-commit.ts for the protocol and its errors). */
  async function create(orgId: string, input: CreateDatasetInput): Promise<DatasetVersionView> {
    const versionId = await committer.commit(orgId, input);
    const [version] = await repo.versionsByIds(db, orgId, [versionId]);
    if (!version) throw new Error(`version ${versionId} vanished right after its commit`);
    return view(orgId, version);
  }

  /** One version with its first page of artefacts; the latest when `key.version` is empty. NotFoundError otherwise. */
  async function get(orgId: string, key: VersionKey): Promise<DatasetVersionView> {
    return view(orgId, await mustFindVersion(orgId, key));
  }

  /** A page of the artefacts of one version (name and version both given); NotFoundError for an unknown version. */
  async function listArtefacts(orgId: string, key: VersionKey, opts: { prefix: string; pageSize: number; pageToken: string }): Promise<Page<ArtefactView>> {
    const version = await mustFindVersion(orgId, key);
    return artefactPage(orgId, version.id, opts);
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
    const candidates = rows.slice(0, opts.pageSize);
    const parents = await repo.parentsOf(db, orgId, candidates.map((v) => v.id), MAX_PARENTS_LISTED_PER_VERSION);
    // Versions with large metadata or many parents make a short page rather than a huge message.
    const sizeOf = (v: VersionWithName) =>
      300 + v.description.length + entriesBytes(v.metadata) + (parents.get(v.id)?.refs ?? []).reduce((n, p) => n + p.name.length + p.version.length + 8, 0);
    const page = candidates.slice(0, countWithinBytes(candidates, sizeOf));
    const last = page.at(-1);
    const more = page.length < candidates.length || rows.length > opts.pageSize;
    return {
      items: page.map((v) => toView(v, undefined, parents.get(v.id))),
      nextPageToken: more && last ? encodeToken(last.seq) : "",
    };
  }

  /** Ancestors and descendants of a version, up to `depth` generations each way (0: all, capped) and `maxNodes` versions. */
  async function lineage(orgId: string, key: VersionKey, opts: { depth: number; maxNodes: number }): Promise<LineageGraph> {
    const start = await mustFindVersion(orgId, key);
    const depth = opts.depth > 0 ? Math.min(opts.depth, MAX_LINEAGE_DEPTH) : MAX_LINEAGE_DEPTH;
    return walkLineage(db, orgId, start, { depth, maxNodes: opts.maxNodes });
  }

  /** An artefact's description and its bytes from `offset`. NotFoundError, InvalidInputError (offset past the end), DataLossError. */
  async function openArtefact(orgId: string, key: VersionKey, path: string, range: ByteRange): Promise<OpenedArtefact> {
    const version = await mustFindVersion(orgId, key);
    const row = await repo.findArtefact(db, orgId, version.id, path);
    if (!row) throw new NotFoundError(`dataset "${version.name}" version "${version.version}" has no artefact "${path}"`);
    return openArtefactBytes({ db, store }, orgId, toArtefactView(row), range, `dataset "${version.name}@${version.version}"`);
  }

  return { create, get, listArtefacts, list, listVersions, lineage, openArtefact };
}

function toView(version: VersionWithName, artefacts: Page<ArtefactView> | undefined, parents: repo.Parents | undefined): DatasetVersionView {
  return {
    name: version.name,
    version: version.version,
    description: version.description,
    metadata: version.metadata,
    artefacts: artefacts?.items ?? [],
    artefactsNextPageToken: artefacts?.nextPageToken ?? "",
    derivedFrom: parents?.refs ?? [],
    derivedFromCount: parents?.total ?? 0,
    createdAt: version.createdAt,
    totalSize: version.totalSize,
    artefactCount: version.artefactCount,
  };
}
