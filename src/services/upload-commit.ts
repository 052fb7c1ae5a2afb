/**
 * Commits staged uploads as the artefacts of something (a dataset version, a
 * run), all or none. Every complete upload already holds its bytes whole in
 * an object of its own, so a commit is metadata only, and its time does not
 * grow with the bytes:
 *   1. plan    — per distinct content, find the blob stored before (and check
 *                its object is there, whole) or take the upload's object.
 *   2. commit  — one transaction re-checks the uploads, inserts the new blob
 *                rows pointing at their uploads' objects, locks the reused
 *                ones, lets the owner insert its rows, and marks the uploads
 *                committed. The artefacts are visible all at once, or never.
 *   3. purge   — objects of uploads whose bytes were stored before
 *                (duplicates) are deleted; the janitor retries failures.
 * A crash before 2 leaves complete uploads, which a retry commits or the
 * janitor reclaims when they expire; a crash after 2 leaves duplicates, which
 * the janitor reclaims.
 */
import type { Kysely } from "kysely";
import { markPurged } from "../db/uploads-repo.js";
import type { Database, UploadRow } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { adoptBlobs, type BlobPlan, planBlobs } from "./blobs.js";
import { ConflictError, FailedPreconditionError, InvalidInputError, NotFoundError } from "./errors.js";
import { isWellFormedId } from "./ids.js";
import { describeState } from "./uploads.js";

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
export type CommitStep = "planned" | "in-transaction" | "committed";

export interface UploadCommitDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  now: () => Date;
  /** Parallel object-store calls (HEADs) while checking the objects a commit points at (default 64: a commit of 10,000 small files is 10,000 of them). */
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
  const concurrency = deps.storeConcurrency ?? 64;
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

  /** Step 2, first: the uploads are still complete, locked until the transaction ends. */
  async function lockUploads(trx: Kysely<Database>, orgId: string, artefacts: readonly StagedArtefact[], what: string): Promise<void> {
    const uploadIds = artefacts.map((a) => a.upload.id);
    const locked = await countInBatches(uploadIds, (batch) =>
      trx.selectFrom("uploads").select("id").where("orgId", "=", orgId).where("id", "in", batch).where("state", "=", "complete").forUpdate().execute(),
    );
    if (locked !== uploadIds.length) {
      throw new ConflictError(`an upload named here was committed or aborted concurrently; retry the ${what}`);
    }
  }

  /**
   * Step 3: deletes the objects of uploads whose bytes were stored before
   * (and the short remains of a blob that was pointed elsewhere), and marks
   * the uploads purged. Failures are left to the janitor.
   */
  async function purgeDuplicates(artefacts: readonly StagedArtefact[], plans: readonly BlobPlan[], kept: Map<string, string>): Promise<void> {
    try {
      const duplicates = artefacts.map((a) => a.upload).filter((u) => u.objectKey !== null && kept.get(u.sha256 ?? "") !== u.objectKey);
      const replaced = plans.filter((p) => p.repoint && p.storedAt !== undefined && kept.get(p.sha256) !== p.storedAt);
      await store.delete([...duplicates.map((u) => u.objectKey ?? ""), ...replaced.map((p) => p.storedAt ?? "")]);
      await markPurged(
        db,
        artefacts.map((a) => a.upload.id),
      );
    } catch (error) {
      deps.log?.("deleting duplicate objects after a commit failed; the janitor will retry", error);
    }
  }

  /**
   * Commits `artefacts` (from resolve()) for `what` (the RPC, for messages).
   * `owner.insert` writes the owner's rows inside the commit transaction, and
   * its result is returned. When that transaction fails, `owner.recover` may
   * still answer (a concurrent identical request won the race) or return
   * undefined to let the error through. Throws FailedPreconditionError (an
   * upload not complete, or its bytes lost), ConflictError (retryable), or what
   * `insert` throws.
   */
  async function commit<T>(orgId: string, artefacts: readonly StagedArtefact[], what: string, owner: CommitOwner<T>): Promise<T> {
    assertCommittable(artefacts, what);
    const plans = await planBlobs(
      db,
      store,
      orgId,
      artefacts.map((a) => a.upload),
      concurrency,
    );
    await step("planned");
    let result: T;
    let kept = new Map<string, string>();
    try {
      result = await db.transaction().execute(async (trx) => {
        await lockUploads(trx, orgId, artefacts, what);
        kept = await adoptBlobs(trx, orgId, plans, now());
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
    await purgeDuplicates(artefacts, plans, kept);
    return result;
  }

  return { resolve, commit };
}
