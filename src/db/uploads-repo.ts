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

export interface RecordedSegment {
  seq: number;
  size: number;
  objectKey: string;
  hashState: Uint8Array;
}

/**
 * Records a segment as durable, with where it is stored and the hash state
 * after it, and renews the stream's lease; false if the stream no longer
 * holds the upload (then nothing is recorded).
 */
export async function recordSegment(
  db: Kysely<Database>,
  id: string,
  token: string,
  segment: RecordedSegment,
  times: { now: Date; leaseUntil: Date; expiresAt: Date },
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const updated = await trx
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
    if (updated.numUpdatedRows === 0n) return false;
    await trx.insertInto("uploadSegments").values({ uploadId: id, ...segment }).execute();
    return true;
  });
}

/** The recorded segments' object keys, by seq. */
export async function segmentKeys(db: Kysely<Database>, id: string): Promise<Map<number, string>> {
  const rows = await db.selectFrom("uploadSegments").select(["seq", "objectKey"]).where("uploadId", "=", id).execute();
  return new Map(rows.map((r) => [r.seq, r.objectKey]));
}

/** The hash state after segment `seq`, if recorded. */
export async function hashStateAfter(db: Kysely<Database>, id: string, seq: number): Promise<Uint8Array | undefined> {
  const row = await db.selectFrom("uploadSegments").select("hashState").where("uploadId", "=", id).where("seq", "=", seq).executeTakeFirst();
  return row?.hashState;
}

/** Extends a live stream's lease; false if the stream no longer holds the upload. */
export async function renewLease(db: Kysely<Database>, id: string, token: string, leaseUntil: Date): Promise<boolean> {
  const updated = await db
    .updateTable("uploads")
    .set({ writerLeaseUntil: leaseUntil })
    .where("id", "=", id)
    .where("writerToken", "=", token)
    .where("state", "=", "in_progress")
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
    const batch = ids.slice(i, i + 1000);
    await db.updateTable("uploads").set({ stagingPurged: true }).where("id", "in", batch).execute();
    await db.deleteFrom("uploadSegments").where("uploadId", "in", batch).execute();
  }
}
