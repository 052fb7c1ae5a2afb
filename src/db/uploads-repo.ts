/**
 * State transitions of an upload row. Writes by a stream are fenced by its
 * writer token, so a stream that lost its claim (aborted, expired, taken over
 * by a resume elsewhere) can never advance the row.
 */
import { type Kysely, sql } from "kysely";
import type { Database, NewUploadRow, UploadRow } from "./schema.js";

export async function findUpload(db: Kysely<Database>, orgId: string, id: string): Promise<UploadRow | undefined> {
  return db.selectFrom("uploads").selectAll().where("id", "=", id).where("orgId", "=", orgId).executeTakeFirst();
}

export async function insertUpload(db: Kysely<Database>, row: NewUploadRow): Promise<UploadRow> {
  return db.insertInto("uploads").values(row).returningAll().executeTakeFirstOrThrow();
}

/** Gives the upload to a resuming stream, unless another stream holds an unexpired claim. */
export async function claimUpload(
  db: Kysely<Database>,
  row: UploadRow,
  claim: { token: string; leaseUntil: Date; now: Date },
): Promise<UploadRow | undefined> {
  return db
    .updateTable("uploads")
    .set({ writerToken: claim.token, writerLeaseUntil: claim.leaseUntil, updatedAt: claim.now })
    .where("id", "=", row.id)
    .where("state", "=", "in_progress")
    .where("segmentCount", "=", row.segmentCount)
    .where((eb) => eb.or([eb("writerLeaseUntil", "is", null), eb("writerLeaseUntil", "<", claim.now)]))
    .returningAll()
    .executeTakeFirst();
}

/** Records segment `seq` of `size` bytes as durable; false if the stream no longer holds the upload. */
export async function recordSegment(
  db: Kysely<Database>,
  id: string,
  token: string,
  segment: { seq: number; size: number },
  times: { now: Date; leaseUntil: Date; expiresAt: Date },
): Promise<boolean> {
  const updated = await db
    .updateTable("uploads")
    .set({
      bytesReceived: sql`bytes_received + ${segment.size}`,
      segmentCount: segment.seq + 1,
      writerLeaseUntil: times.leaseUntil,
      updatedAt: times.now,
      expiresAt: times.expiresAt,
    })
    .where("id", "=", id)
    .where("writerToken", "=", token)
    .where("state", "=", "in_progress")
    .where("segmentCount", "=", segment.seq)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/** Marks the upload complete; undefined if the stream no longer holds it. */
export async function completeUpload(
  db: Kysely<Database>,
  id: string,
  token: string,
  done: { sha256: string; size: number; storedAsBlob: boolean; now: Date; expiresAt: Date },
): Promise<UploadRow | undefined> {
  return db
    .updateTable("uploads")
    .set({
      state: "complete",
      sha256: done.sha256,
      bytesReceived: done.size,
      storedAsBlob: done.storedAsBlob,
      // An upload stored as its blob never had staged segments.
      stagingPurged: done.storedAsBlob,
      writerToken: null,
      writerLeaseUntil: null,
      updatedAt: done.now,
      expiresAt: done.expiresAt,
    })
    .where("id", "=", id)
    .where("writerToken", "=", token)
    .where("state", "=", "in_progress")
    .returningAll()
    .executeTakeFirst();
}

export async function releaseWriter(db: Kysely<Database>, id: string, token: string): Promise<void> {
  await db.updateTable("uploads").set({ writerToken: null, writerLeaseUntil: null }).where("id", "=", id).where("writerToken", "=", token).execute();
}

/** Discards an upload that is in progress or complete; undefined if it was neither. */
export async function markDiscarded(db: Kysely<Database>, id: string, reason: string, now: Date): Promise<UploadRow | undefined> {
  return db
    .updateTable("uploads")
    .set({ state: "discarded", discardReason: reason, writerToken: null, writerLeaseUntil: null, updatedAt: now })
    .where("id", "=", id)
    .where("state", "in", ["in_progress", "complete"])
    .returningAll()
    .executeTakeFirst();
}

export async function markPurged(db: Kysely<Database>, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) {
    await db.updateTable("uploads").set({ stagingPurged: true }).where("id", "in", ids.slice(i, i + 1000)).execute();
  }
}
