/**
 * CreateDataset: commits staged uploads as an immutable dataset version.
 *
 * The database and object storage share no transaction, so the commit is
 * ordered to make every crash point safe:
 *   1. lease   — one short transaction leases a `blobs` row per content hash;
 *                the janitor never deletes a leased or referenced blob.
 *   2. copy    — staged segments are composed into their permanent,
 *                content-addressed home. Idempotent: same hash, same bytes.
 *   3. commit  — one transaction re-checks the uploads and leases, inserts the
 *                version, artefacts and lineage, and marks the uploads
 *                committed. The version is visible all at once, or never.
 *   4. purge   — staged segments are deleted; the janitor retries failures.
 * A crash before 3 leaves leased blobs that nothing references; once their
 * lease expires the janitor deletes them. A crash after 3 leaves only staging
 * garbage, which the janitor also reclaims.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import { findVersion, findVersions, type VersionKey } from "../db/datasets-repo.js";
import { markPurged } from "../db/uploads-repo.js";
import type { Database, UploadRow } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { leaseBlobs } from "./blobs.js";
import { mapConcurrent } from "../util/map-concurrent.js";
import { AlreadyExistsError, ConflictError, FailedPreconditionError, InvalidInputError, NotFoundError } from "./errors.js";
import { isWellFormedId, newId } from "./ids.js";
import { blobKey, segmentKey } from "./object-keys.js";
import { describeState } from "./uploads.js";

export interface CreateDatasetInput {
  name: string;
  version: string;
  description: string;
  metadata: Record<string, string>;
  artefacts: { uploadId: string; path: string }[];
  derivedFrom: VersionKey[];
}

/** Points where tests inject failures (a storage error, a database error, a killed process). */
export type CommitStep = "leased" | "copied" | "in-transaction" | "committed";

export interface DatasetCommitDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  now: () => Date;
  maxArtefactsPerVersion: number;
  /** How long a commit may take between leasing blobs and committing; the janitor waits this long. */
  blobLeaseMs?: number;
  /** Parallel object-store calls during copy and purge. */
  storeConcurrency?: number;
  onStep?: (step: CommitStep) => void | Promise<void>;
  log?: (message: string, error: unknown) => void;
}

interface ResolvedArtefact {
  path: string;
  upload: UploadRow;
}

const BATCH = 1000;

/** Creates the commit function; it returns the id of the version created, or of the identical one retried. */
export function createDatasetCommitter(deps: DatasetCommitDeps) {
  const { db, store, now } = deps;
  const leaseMs = deps.blobLeaseMs ?? 60 * 60 * 1000;
  const concurrency = deps.storeConcurrency ?? 16;
  const step = async (s: CommitStep) => deps.onStep?.(s);

  async function loadUploads(orgId: string, input: CreateDatasetInput): Promise<ResolvedArtefact[]> {
    if (input.artefacts.length > deps.maxArtefactsPerVersion) {
      throw new InvalidInputError("artefacts", `a version holds at most ${deps.maxArtefactsPerVersion} artefacts, not ${input.artefacts.length}`);
    }
    const ids = input.artefacts.map((a) => a.uploadId);
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) throw new InvalidInputError("artefacts", `upload "${id}" is named twice; name each upload once`);
      seen.add(id);
    }
    const rows = new Map<string, UploadRow>();
    const wellFormed = ids.filter((id) => isWellFormedId("up", id));
    for (let i = 0; i < wellFormed.length; i += BATCH) {
      const batch = wellFormed.slice(i, i + BATCH);
      for (const row of await db.selectFrom("uploads").selectAll().where("orgId", "=", orgId).where("id", "in", batch).execute()) {
        rows.set(row.id, row);
      }
    }
    const paths = new Set<string>();
    return input.artefacts.map(({ uploadId, path }) => {
      const upload = rows.get(uploadId);
      if (!upload) throw new NotFoundError(`upload "${uploadId}" not found`);
      const resolved = path || upload.fileName;
      if (paths.has(resolved)) throw new InvalidInputError("artefacts.path", `path "${resolved}" is used by two artefacts; give each a distinct path`);
      paths.add(resolved);
      return { path: resolved, upload };
    });
  }

  async function resolveParents(orgId: string, refs: VersionKey[]): Promise<string[]> {
    const found = await findVersions(db, orgId, refs);
    return refs.map((ref) => {
      const match = found.find((v) => v.name === ref.name && v.version === ref.version);
      if (!match) throw new NotFoundError(`derived_from: dataset "${ref.name}" version "${ref.version}" not found`);
      return match.id;
    });
  }

  /** A retry with identical content returns the existing version; other content is AlreadyExistsError. */
  async function existingVersion(orgId: string, input: CreateDatasetInput, artefacts: ResolvedArtefact[]): Promise<string | undefined> {
    const existing = await findVersion(db, orgId, input);
    if (!existing) return undefined;
    if (existing.fingerprint === fingerprint(input, artefacts)) return existing.id;
    throw new AlreadyExistsError(
      `dataset "${input.name}" version "${input.version}" already exists with other content; versions are immutable: choose a new version`,
    );
  }

  function assertCommittable(artefacts: ResolvedArtefact[]): void {
    for (const { upload } of artefacts) {
      if (upload.state === "complete" && upload.expiresAt <= now()) {
        throw new FailedPreconditionError(`upload "${upload.id}" expired at ${upload.expiresAt.toISOString()}; upload the file again`);
      }
      if (upload.state !== "complete") {
        const hint = upload.state === "in_progress" ? ": finish its Upload stream before CreateDataset" : "";
        throw new FailedPreconditionError(`upload "${upload.id}" is ${describeState(upload)}${hint}`);
      }
    }
  }

  /** Step 2: compose each distinct upload's segments into its permanent home, unless already there. */
  async function copyToPermanent(orgId: string, artefacts: ResolvedArtefact[], existed: Set<string>): Promise<void> {
    const byHash = new Map<string, UploadRow>();
    for (const { upload } of artefacts) byHash.set(upload.sha256 ?? "", upload);
    await mapConcurrent([...byHash.values()], concurrency, async (upload) => {
      const sha256 = upload.sha256 ?? "";
      const dest = blobKey(orgId, sha256);
      if (upload.storedAsBlob) {
        // Written straight to its blob at upload, under a lease that outlives the upload: the row
        // existing means the object does. A row created just now means the janitor reclaimed it.
        if (existed.has(sha256) || (await store.stat(dest))?.size === upload.bytesReceived) return;
        throw new FailedPreconditionError(`the bytes of upload "${upload.id}" were reclaimed; upload the file again`);
      }
      if (existed.has(sha256) && (await store.stat(dest))?.size === upload.bytesReceived) return;
      if (upload.segmentCount === 0) return store.put(dest, Readable.from([]), 0);
      const sources = Array.from({ length: upload.segmentCount }, (_, seq) => segmentKey(orgId, upload.id, seq));
      await store.compose(sources, dest);
    });
  }

  /** Step 3: the one transaction that makes the version visible. */
  async function insertVersion(orgId: string, input: CreateDatasetInput, artefacts: ResolvedArtefact[], parentIds: string[]) {
    const uploadIds = artefacts.map((a) => a.upload.id);
    const hashes = [...new Set(artefacts.map((a) => a.upload.sha256 ?? ""))];
    const versionId = newId("dsv");
    await db.transaction().execute(async (trx) => {
      let locked = 0;
      let leased = 0;
      for (let i = 0; i < uploadIds.length; i += BATCH) {
        const batch = uploadIds.slice(i, i + BATCH);
        const rows = await trx
          .selectFrom("uploads")
          .select("id")
          .where("orgId", "=", orgId)
          .where("id", "in", batch)
          .where("state", "=", "complete")
          .forUpdate()
          .execute();
        locked += rows.length;
      }
      if (locked !== uploadIds.length) {
        throw new ConflictError("an upload of this version was committed or aborted concurrently; retry the CreateDataset");
      }
      for (let i = 0; i < hashes.length; i += BATCH) {
        const rows = await trx
          .selectFrom("blobs")
          .select("sha256")
          .where("orgId", "=", orgId)
          .where("sha256", "in", hashes.slice(i, i + BATCH))
          .where("state", "=", "live")
          .where("leaseUntil", ">", now())
          .forShare()
          .execute();
        leased += rows.length;
      }
      if (leased !== hashes.length) throw new ConflictError("the commit took longer than its lease; retry the CreateDataset");

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
            artefacts.slice(i, i + BATCH).map(({ path, upload }) => ({
              versionId,
              orgId,
              path,
              sha256: upload.sha256 ?? "",
              size: upload.bytesReceived,
              mediaType: upload.mediaType,
              uploadId: upload.id,
            })),
          )
          .execute();
      }
      if (parentIds.length > 0) {
        await trx
          .insertInto("lineageEdges")
          .values([...new Set(parentIds)].map((parentId) => ({ orgId, parentId, childId: versionId })))
          .execute();
      }
      for (let i = 0; i < uploadIds.length; i += BATCH) {
        await trx
          .updateTable("uploads")
          .set({ state: "committed", updatedAt: now() })
          .where("orgId", "=", orgId)
          .where("id", "in", uploadIds.slice(i, i + BATCH))
          .execute();
      }
      await step("in-transaction");
    });
    return versionId;
  }

  /** Step 4: staged segments are no longer needed. Failures are left to the janitor. */
  async function purgeStaging(orgId: string, artefacts: ResolvedArtefact[]): Promise<void> {
    try {
      const keys = artefacts.flatMap(({ upload }) =>
        Array.from({ length: upload.segmentCount }, (_, seq) => segmentKey(orgId, upload.id, seq)),
      );
      await store.delete(keys);
      await markPurged(
        db,
        artefacts.map((a) => a.upload.id),
      );
    } catch (error) {
      deps.log?.("purging staged uploads after a commit failed; the janitor will retry", error);
    }
  }

  /**
   * Commits a dataset version. Throws InvalidInputError, NotFoundError,
   * AlreadyExistsError, FailedPreconditionError, ConflictError (retryable).
   */
  async function commit(orgId: string, input: CreateDatasetInput): Promise<string> {
    const artefacts = await loadUploads(orgId, input);
    const retried = await existingVersion(orgId, input, artefacts);
    if (retried) return retried;
    assertCommittable(artefacts);
    const parentIds = await resolveParents(orgId, input.derivedFrom);

    const blobs = new Map(artefacts.map(({ upload }) => [upload.sha256 ?? "", upload.bytesReceived] as const));
    const existed = await leaseBlobs(db, orgId, blobs, new Date(now().getTime() + leaseMs));
    await step("leased");
    await copyToPermanent(orgId, artefacts, existed);
    await step("copied");
    let versionId: string;
    try {
      versionId = await insertVersion(orgId, input, artefacts, parentIds);
    } catch (error) {
      // A concurrent identical CreateDataset may have won the race (a unique
      // violation, or our uploads already committed by it): answer as a retry.
      const winner = await existingVersion(orgId, input, artefacts).catch((e: unknown) => {
        if (e instanceof AlreadyExistsError) throw e;
        return undefined;
      });
      if (winner) return winner;
      throw error;
    }
    await step("committed");
    await purgeStaging(orgId, artefacts);
    return versionId;
  }

  return { commit };
}

/** Digest of everything a version is made of, to tell a retried request from a different one. */
function fingerprint(input: CreateDatasetInput, artefacts: ResolvedArtefact[]): string {
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
