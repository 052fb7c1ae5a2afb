/**
 * Commits staged uploads as the artefacts of something (a dataset version, a
 * run), all or none. The database and object storage share no transaction,
 * so the commit is ordered to make every crash point safe:
 *   1. lease   — one short transaction leases a `blobs` row per content hash;
 *                the janitor never deletes a leased or referenced blob.
 *   2. copy    — staged segments are composed into their permanent,
 *                content-addressed home. Idempotent: same hash, same bytes.
 *                A blob stored before is reused only once its size checks.
 *   3. commit  — one transaction re-checks the uploads and leases, lets the
 *                owner insert its rows, and marks the uploads committed. The
 *                artefacts are visible all at once, or never.
 *   4. purge   — staged segments are deleted; the janitor retries failures.
 * A crash before 3 leaves leased blobs that nothing references; once their
 * lease expires the janitor deletes them. A crash after 3 leaves only staging
 * garbage, which the janitor also reclaims.
 */
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import { markPurged } from "../db/uploads-repo.js";
import type { Database, UploadRow } from "../db/schema.js";
import { ObjectNotFoundError, type ObjectStore } from "../storage/object-store.js";
import { mapConcurrent } from "../util/map-concurrent.js";
import { leaseBlobs } from "./blobs.js";
import { ConflictError, FailedPreconditionError, InvalidInputError, NotFoundError, UnavailableError } from "./errors.js";
import { isWellFormedId } from "./ids.js";
import { blobKey } from "./object-keys.js";
import { describeState, stagedSegmentKeys } from "./uploads.js";

/** An upload named by a request, and the path it is to have. Empty path: the upload's file name. */
export interface ArtefactSource {
  uploadId: string;
  path: string;
}

/** An upload resolved to its row, with its final path. */
export interface StagedArtefact {
  path: string;
  upload: UploadRow;
}

/** The columns an artefact row (of a dataset version or a run) takes from its upload. */
export function artefactColumns({ path, upload }: StagedArtefact) {
  return { path, sha256: upload.sha256 ?? "", size: upload.bytesReceived, mediaType: upload.mediaType, uploadId: upload.id };
}

/** Points where tests inject failures (a storage error, a database error, a killed process). */
export type CommitStep = "leased" | "copied" | "in-transaction" | "committed";

export interface UploadCommitDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  now: () => Date;
  /** How long a commit may take between leasing blobs and committing; the janitor waits this long. */
  blobLeaseMs?: number;
  /** Parallel object-store calls during copy and purge. */
  storeConcurrency?: number;
  onStep?: (step: CommitStep) => void | Promise<void>;
  log?: (message: string, error: unknown) => void;
}

/** What a commit's owner (a dataset version, a run) adds to it. */
export interface CommitOwner<T> {
  insert(trx: Kysely<Database>): Promise<T>;
  recover?(error: unknown): Promise<T | undefined>;
}

const BATCH = 1000;

/** Rows `select` finds for `keys`, asked BATCH keys at a time (an IN list per statement stays bounded). */
async function countInBatches(keys: readonly string[], select: (batch: string[]) => Promise<unknown[]>): Promise<number> {
  let found = 0;
  for (let i = 0; i < keys.length; i += BATCH) found += (await select(keys.slice(i, i + BATCH))).length;
  return found;
}

export type UploadCommitter = ReturnType<typeof createUploadCommitter>;

export function createUploadCommitter(deps: UploadCommitDeps) {
  const { db, store, now } = deps;
  const leaseMs = deps.blobLeaseMs ?? 60 * 60 * 1000;
  const concurrency = deps.storeConcurrency ?? 16;
  const step = async (s: CommitStep) => deps.onStep?.(s);

  /**
   * The uploads a request names, with their paths, in request order; at most
   * `maxCount`. Naming an upload or a path twice is InvalidInputError, an
   * unknown (or foreign) upload NotFoundError. States are checked by commit().
   */
  async function resolve(orgId: string, sources: readonly ArtefactSource[], maxCount: number): Promise<StagedArtefact[]> {
    if (sources.length > maxCount) {
      throw new InvalidInputError("artefacts", `at most ${maxCount} artefacts are committed at once, not ${sources.length}`);
    }
    const seen = new Set<string>();
    for (const { uploadId } of sources) {
      if (seen.has(uploadId)) throw new InvalidInputError("artefacts", `upload "${uploadId}" is named twice; name each upload once`);
      seen.add(uploadId);
    }
    const rows = new Map<string, UploadRow>();
    const wellFormed = sources.map((s) => s.uploadId).filter((id) => isWellFormedId("up", id));
    for (let i = 0; i < wellFormed.length; i += BATCH) {
      const batch = wellFormed.slice(i, i + BATCH);
      for (const row of await db.selectFrom("uploads").selectAll().where("orgId", "=", orgId).where("id", "in", batch).execute()) {
        rows.set(row.id, row);
      }
    }
    const paths = new Set<string>();
    return sources.map(({ uploadId, path }) => {
      const upload = rows.get(uploadId);
      if (!upload) throw new NotFoundError(`upload "${uploadId}" not found`);
      const resolved = path || upload.fileName;
      if (paths.has(resolved)) throw new InvalidInputError("artefacts.path", `path "${resolved}" is used by two artefacts; give each a distinct path`);
      paths.add(resolved);
      return { path: resolved, upload };
    });
  }

  function assertCommittable(artefacts: readonly StagedArtefact[], what: string): void {
    for (const { upload } of artefacts) {
      if (upload.state === "complete" && upload.expiresAt <= now()) {
        throw new FailedPreconditionError(`upload "${upload.id}" expired at ${upload.expiresAt.toISOString()}; upload the file again`);
      }
      if (upload.state !== "complete") {
        const hint = upload.state === "in_progress" ? `: finish its Upload stream before ${what}` : "";
        throw new FailedPreconditionError(`upload "${upload.id}" is ${describeState(upload)}${hint}`);
      }
    }
  }

  /**
   * Step 2: compose each distinct upload's segments into its permanent home,
   * unless a blob stored before holds them whole. A blob row does not prove
   * its object (a janitor, an operator, a bucket policy may have removed it),
   * so a reused blob's size is checked, and a missing or short one is
   * composed again from staging where the upload still has it.
   */
  async function copyToPermanent(orgId: string, artefacts: readonly StagedArtefact[], existed: Set<string>): Promise<void> {
    // Per hash, prefer an upload with staged segments: it can re-create a lost blob; a small upload cannot.
    const byHash = new Map<string, UploadRow>();
    for (const { upload } of artefacts) {
      const held = byHash.get(upload.sha256 ?? "");
      if (!held || (held.storedAsBlob && !upload.storedAsBlob)) byHash.set(upload.sha256 ?? "", upload);
    }
    await mapConcurrent([...byHash.values()], concurrency, async (upload) => {
      const sha256 = upload.sha256 ?? "";
      const dest = blobKey(orgId, sha256);
      // A small upload's blob was written at upload time: its row always existed.
      if (upload.storedAsBlob || existed.has(sha256)) {
        if ((await store.stat(dest))?.size === upload.bytesReceived) return;
        if (upload.storedAsBlob) {
          throw new FailedPreconditionError(`the bytes of upload "${upload.id}" are missing from object storage; upload the file again`);
        }
      }
      await composeFromStaging(upload, dest);
    });
  }

  /** Composes an upload's staged segments at `dest` and checks the result holds every byte the upload recorded. */
  async function composeFromStaging(upload: UploadRow, dest: string): Promise<void> {
    if (upload.segmentCount === 0) return store.put(dest, Readable.from([]), 0);
    try {
      await store.compose(await stagedSegmentKeys(db, upload), dest);
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
      throw new FailedPreconditionError(`a staged segment of upload "${upload.id}" is missing from object storage; upload the file again`, {
        cause: error,
      });
    }
    const composed = await store.stat(dest);
    // Read-after-write is strong on S3 and files: an object gone at once was removed under us, and a retry composes it again.
    if (!composed) throw new UnavailableError(`object storage lost the blob just composed from upload "${upload.id}"; retry`);
    if (composed.size !== upload.bytesReceived) {
      throw new FailedPreconditionError(
        `the staged segments of upload "${upload.id}" hold ${composed.size} bytes, not the ${upload.bytesReceived} it received; upload the file again`,
      );
    }
  }

  /** Step 3, first half: the uploads are still complete and the blobs still leased, locked until the transaction ends. */
  async function lockUploadsAndLeases(trx: Kysely<Database>, orgId: string, artefacts: readonly StagedArtefact[], what: string): Promise<void> {
    const uploadIds = artefacts.map((a) => a.upload.id);
    const hashes = [...new Set(artefacts.map((a) => a.upload.sha256 ?? ""))];
    const locked = await countInBatches(uploadIds, (batch) =>
      trx.selectFrom("uploads").select("id").where("orgId", "=", orgId).where("id", "in", batch).where("state", "=", "complete").forUpdate().execute(),
    );
    if (locked !== uploadIds.length) {
      throw new ConflictError(`an upload named here was committed or aborted concurrently; retry the ${what}`);
    }
    const leased = await countInBatches(hashes, (batch) =>
      trx
        .selectFrom("blobs")
        .select("sha256")
        .where("orgId", "=", orgId)
        .where("sha256", "in", batch)
        .where("state", "=", "live")
        .where("leaseUntil", ">", now())
        .forShare()
        .execute(),
    );
    if (leased !== hashes.length) throw new ConflictError(`the commit took longer than its lease; retry the ${what}`);
  }

  /** Step 4: staged segments are no longer needed. Failures are left to the janitor. */
  async function purgeStaging(_orgId: string, artefacts: readonly StagedArtefact[]): Promise<void> {
    try {
      const keys = (await mapConcurrent(artefacts, concurrency, ({ upload }) => stagedSegmentKeys(db, upload))).flat();
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
   * Commits `artefacts` (from resolve()) for `what` (the RPC, for messages).
   * `owner.insert` writes the owner's rows inside the commit transaction, and
   * its result is returned. When that transaction fails, `owner.recover` may
   * still answer (a concurrent identical request won the race) or return
   * undefined to let the error through. Throws FailedPreconditionError (an
   * upload not complete, or reclaimed), ConflictError (retryable), or what
   * `insert` throws.
   */
  async function commit<T>(orgId: string, artefacts: readonly StagedArtefact[], what: string, owner: CommitOwner<T>): Promise<T> {
    assertCommittable(artefacts, what);
    const blobs = new Map(artefacts.map(({ upload }) => [upload.sha256 ?? "", upload.bytesReceived] as const));
    const existed = await leaseBlobs(db, orgId, blobs, new Date(now().getTime() + leaseMs));
    await step("leased");
    await copyToPermanent(orgId, artefacts, existed);
    await step("copied");
    let result: T;
    try {
      result = await db.transaction().execute(async (trx) => {
        await lockUploadsAndLeases(trx, orgId, artefacts, what);
        const inserted = await owner.insert(trx);
        const uploadIds = artefacts.map((a) => a.upload.id);
        for (let i = 0; i < uploadIds.length; i += BATCH) {
          await trx
            .updateTable("uploads")
            .set({ state: "committed", updatedAt: now() })
            .where("orgId", "=", orgId)
            .where("id", "in", uploadIds.slice(i, i + BATCH))
            .execute();
        }
        await step("in-transaction");
        return inserted;
      });
    } catch (error) {
      const recovered = await owner.recover?.(error);
      if (recovered === undefined) throw error;
      return recovered;
    }
    await step("committed");
    await purgeStaging(orgId, artefacts);
    return result;
  }

  return { resolve, commit };
}
