/**
 * CreateDataset: commits staged uploads as an immutable dataset version, by
 * the protocol in upload-commit.ts. The version, its artefacts and lineage
 * are inserted in the commit's one transaction: visible all at once, or never.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { findVersion, findVersions, type VersionKey } from "../db/datasets-repo.js";
import type { Database } from "../db/schema.js";
import { AlreadyExistsError, NotFoundError } from "./errors.js";
import { newId } from "./ids.js";
import { type ArtefactSource, artefactColumns, type StagedArtefact, type UploadCommitter } from "./upload-commit.js";

export interface CreateDatasetInput {
  name: string;
  version: string;
  description: string;
  metadata: Record<string, string>;
  artefacts: ArtefactSource[];
  derivedFrom: VersionKey[];
}

export interface DatasetCommitDeps {
  db: Kysely<Database>;
  now: () => Date;
  committer: UploadCommitter;
  maxArtefactsPerVersion: number;
}

const BATCH = 1000;

/** Creates the commit function; it returns the id of the version created, or of the identical one retried. */
export function createDatasetCommitter(deps: DatasetCommitDeps) {
  const { db, now, committer } = deps;

  async function resolveParents(orgId: string, refs: VersionKey[]): Promise<string[]> {
    const found = await findVersions(db, orgId, refs);
    return refs.map((ref) => {
      const match = found.find((v) => v.name === ref.name && v.version === ref.version);
      if (!match) throw new NotFoundError(`derived_from: dataset "${ref.name}" version "${ref.version}" not found`);
      return match.id;
    });
  }

  /** A retry with identical content returns the existing version; other content is AlreadyExistsError. */
  async function existingVersion(orgId: string, input: CreateDatasetInput, artefacts: StagedArtefact[]): Promise<string | undefined> {
    const existing = await findVersion(db, orgId, input);
    if (!existing) return undefined;
    if (existing.fingerprint === fingerprint(input, artefacts)) return existing.id;
    throw new AlreadyExistsError(
      `dataset "${input.name}" version "${input.version}" already exists with other content; versions are immutable: choose a new version`,
    );
  }

  /** The rows that make the version visible, inside the commit transaction. */
  async function insertVersion(trx: Kysely<Database>, orgId: string, input: CreateDatasetInput, artefacts: StagedArtefact[], parentIds: string[]) {
    const versionId = newId("dsv");
    const dataset = await trx
      .insertInto("datasets")
      .values({ id: newId("ds"), orgId, name: input.name })
      .onConflict((oc) => oc.columns(["orgId", "name"]).doUpdateSet({ updatedAt: now() }))
      .returning("id")
      .executeTakeFirstOrThrow();
    await trx
      .insertInto("datasetVersions")
      .values({
        id: versionId,
        orgId,
        datasetId: dataset.id,
        version: input.version,
        description: input.description,
        metadata: JSON.stringify(input.metadata),
        fingerprint: fingerprint(input, artefacts),
        totalSize: artefacts.reduce((sum, a) => sum + a.upload.bytesReceived, 0),
        artefactCount: artefacts.length,
      })
      .execute();
    for (let i = 0; i < artefacts.length; i += BATCH) {
      await trx
        .insertInto("artefacts")
        .values(
          artefacts.slice(i, i + BATCH).map((a) => ({ versionId, orgId, ...artefactColumns(a) })),
        )
        .execute();
    }
    if (parentIds.length > 0) {
      await trx
        .insertInto("lineageEdges")
        .values([...new Set(parentIds)].map((parentId) => ({ orgId, parentId, childId: versionId })))
        .execute();
    }
    return versionId;
  }

  /**
   * Commits a dataset version. Throws InvalidInputError, NotFoundError,
   * AlreadyExistsError, FailedPreconditionError, ConflictError (retryable).
   */
  async function commit(orgId: string, input: CreateDatasetInput): Promise<string> {
    const artefacts = await committer.resolve(orgId, input.artefacts, deps.maxArtefactsPerVersion);
    const retried = await existingVersion(orgId, input, artefacts);
    if (retried) return retried;
    const parentIds = await resolveParents(orgId, input.derivedFrom);
    return committer.commit(orgId, artefacts, "CreateDataset", {
      insert: (trx) => insertVersion(trx, orgId, input, artefacts, parentIds),
      // A concurrent identical CreateDataset may have won the race (a unique
      // violation, or our uploads already committed by it): answer as a retry.
      recover: () =>
        existingVersion(orgId, input, artefacts).catch((e: unknown) => {
          if (e instanceof AlreadyExistsError) throw e;
          return undefined;
        }),
    });
  }

  return { commit };
}

/** Digest of everything a version is made of, to tell a retried request from a different one. */
function fingerprint(input: CreateDatasetInput, artefacts: StagedArtefact[]): string {
  const canonical = {
    description: input.description,
    metadata: Object.entries(input.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    artefacts: artefacts
      .map(({ path, upload }) => [path, upload.sha256, upload.bytesReceived, upload.mediaType])
      .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    derivedFrom: input.derivedFrom.map((p) => `${p.name}@${p.version}`).sort(),
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}
