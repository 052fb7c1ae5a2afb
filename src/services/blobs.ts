/**
 * Blob rows as a commit sees them. A blob is one distinct content of an
 * organisation (sha256, size) and the physical key of the one object holding
 * it. A commit plans, outside its transaction, what each content it holds
 * becomes: a new blob at its upload's object, or a reference to the blob
 * stored before. Either object's size is checked first: a row does not
 * prove its object, nor does an upload. Inside the transaction it adopts the plan: inserts the new rows
 * and locks the existing ones against the janitor. No byte is copied.
 */
import type { Kysely } from "kysely";
import type { Database, UploadRow } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { mapConcurrent } from "../util/map-concurrent.js";
import { ConflictError, FailedPreconditionError } from "./errors.js";

const BATCH = 1000;

export interface BlobPlan {
  sha256: string;
  size: number;
  /** The upload whose object becomes the blob's when the blob is new, or when the stored one lost its object. */
  source: UploadRow;
  /** The physical key of the blob stored before; undefined when there is none. */
  storedAt: string | undefined;
  /** The stored blob's object is missing or short: the row is pointed at the source's object instead. */
  repoint: boolean;
}

/**
 * One plan per distinct content of `uploads`. ConflictError when the janitor
 * is deleting one of these blobs right now (retry); FailedPreconditionError
 * when the bytes are nowhere (an upload of an earlier version whose blob was
 * lost or reclaimed).
 */
export async function planBlobs(db: Kysely<Database>, store: ObjectStore, orgId: string, uploads: readonly UploadRow[], concurrency: number): Promise<BlobPlan[]> {
  // Per content, prefer an upload that has an object of its own: it can replace a lost blob.
  const byHash = new Map<string, UploadRow>();
  for (const upload of uploads) {
    const held = byHash.get(upload.sha256 ?? "");
    if (!held || (held.objectKey === null && upload.objectKey !== null)) byHash.set(upload.sha256 ?? "", upload);
  }
  const hashes = [...byHash.keys()];
  const stored = new Map<string, { physicalKey: string; size: number; state: string }>();
  for (let i = 0; i < hashes.length; i += BATCH) {
    const rows = await db
      .selectFrom("blobs")
      .select(["sha256", "physicalKey", "size", "state"])
      .where("orgId", "=", orgId)
      .where("sha256", "in", hashes.slice(i, i + BATCH))
      .execute();
    for (const row of rows) stored.set(row.sha256, row);
  }
  return mapConcurrent([...byHash], concurrency, async ([sha256, source]) => {
    const size = source.bytesReceived;
    const row = stored.get(sha256);
    if (row?.state === "deleting") throw new ConflictError("some of these bytes are being garbage-collected at this moment; retry");
    const lost = row !== undefined && (await store.stat(row.physicalKey))?.size !== row.size;
    // The upload's own object is checked too before a blob row points at it: nothing a commit records is taken on trust.
    if ((row === undefined || lost) && (source.objectKey === null || (await store.stat(source.objectKey))?.size !== size)) {
      throw new FailedPreconditionError(`the bytes of upload "${source.id}" are missing from object storage; upload the file again`);
    }
    return { sha256, size, source, storedAt: row?.physicalKey, repoint: lost };
  });
}

/**
 * Inside the commit's transaction: inserts the new blobs, points blobs whose
 * object was lost at their source's object, and locks every blob of the plan
 * (live, FOR SHARE) until the transaction ends, so the janitor cannot claim
 * one. Returns each content's physical key once committed: an upload whose
 * object is not among them holds duplicate bytes. ConflictError when the
 * janitor claimed one of these blobs meanwhile (retry).
 */
export async function adoptBlobs(trx: Kysely<Database>, orgId: string, plans: readonly BlobPlan[], now: Date): Promise<Map<string, string>> {
  const fresh = plans.filter((p) => p.storedAt === undefined);
  for (let i = 0; i < fresh.length; i += BATCH) {
    await trx
      .insertInto("blobs")
      .values(
        fresh.slice(i, i + BATCH).map((p) => ({
          orgId,
          sha256: p.sha256,
          size: p.size,
          physicalKey: p.source.objectKey ?? "",
          state: "live" as const,
          // Referenced from the moment it exists: no lease is needed to keep it.
          leaseUntil: now,
        })),
      )
      // A concurrent commit of the same bytes won: this upload's object becomes a duplicate.
      .onConflict((oc) => oc.columns(["orgId", "sha256"]).doNothing())
      .execute();
  }
  for (const plan of plans.filter((p) => p.repoint)) {
    await trx
      .updateTable("blobs")
      .set({ physicalKey: plan.source.objectKey ?? "" })
      .where("orgId", "=", orgId)
      .where("sha256", "=", plan.sha256)
      .where("physicalKey", "=", plan.storedAt ?? "")
      .where("state", "=", "live")
      .execute();
  }
  const keys = new Map<string, string>();
  const hashes = plans.map((p) => p.sha256);
  for (let i = 0; i < hashes.length; i += BATCH) {
    const locked = await trx
      .selectFrom("blobs")
      .select(["sha256", "physicalKey"])
      .where("orgId", "=", orgId)
      .where("sha256", "in", hashes.slice(i, i + BATCH))
      .where("state", "=", "live")
      .forShare()
      .execute();
    for (const row of locked) keys.set(row.sha256, row.physicalKey);
  }
  if (hashes.some((h) => !keys.has(h))) throw new ConflictError("some of these bytes are being garbage-collected at this moment; retry");
  return keys;
}
