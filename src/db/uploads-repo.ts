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

/** Inserts several uploads in one statement; returns their rows in the order given. */
export async function insertUploads(db: Kysely<Database>, rows: readonly NewUploadRow[]): Promise<UploadRow[]> {
  if (rows.length === 0) return [];
  const inserted = await db.insertInto("uploads").values([...rows]).returningAll().execute();
  const byId = new Map(inserted.map((r) => [r.id, r]));
  return rows.map((r) => {
    const row = byId.get(r.id);
    if (!row) throw new Error(`upload "${r.id}" was not returned by its insert`);
    return row;
  });
}

/** Whether PostgreSQL refused a statement for the values it carried (SQLSTATE class 22 or 23), not for an outage. */
export function isRefusedValue(error: unknown): boolean {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  return typeof code === "string" && /^2[23][0-9A-Z]{3}$/.test(code);
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
  etag: string;
  hashState: Uint8Array;
}

/**
 * Records the handle of the object the upload's parts go to, once: false if
 * the stream no longer holds the upload or a handle is recorded already.
 */
export async function recordPartsHandle(db: Kysely<Database>, id: string, token: string, handle: string): Promise<boolean> {
  const updated = await db
    .updateTable("uploads")
    .set({ partsHandle: handle })
    .where("id", "=", id)
    .where("writerToken", "=", token)
    .where("state", "=", "in_progress")
    .where("partsHandle", "is", null)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/** The recorded parts of an upload's object, in order (part number = seq + 1). */
export async function recordedParts(db: Kysely<Database>, id: string): Promise<{ partNumber: number; etag: string | null }[]> {
  const rows = await db.selectFrom("uploadSegments").select(["seq", "etag"]).where("uploadId", "=", id).orderBy("seq").execute();
  return rows.map((r) => ({ partNumber: r.seq + 1, etag: r.etag }));
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

/** Whether a blob row points to the upload's object: then the object holds committed bytes and must stay. */
export async function isBlobObject(db: Kysely<Database>, row: Pick<UploadRow, "orgId" | "sha256" | "objectKey">): Promise<boolean> {
  if (row.sha256 === null || row.objectKey === null) return false;
  const blob = await db
    .selectFrom("blobs")
    .select("sha256")
    .where("orgId", "=", row.orgId)
    .where("sha256", "=", row.sha256)
    .where("physicalKey", "=", row.objectKey)
    .executeTakeFirst();
  return blob !== undefined;
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

export interface CompletedUpload {
  id: string;
  token: string;
  sha256: string;
  size: number;
  now: Date;
  expiresAt: Date;
}

/**
 * Marks several uploads complete in one statement, each fenced by its own
 * writer token (a stream that lost its claim never completes it); returns, in the order given, each
 * completed row, or undefined where the stream no longer holds its upload.
 */
export async function completeUploads(db: Kysely<Database>, done: readonly CompletedUpload[]): Promise<(UploadRow | undefined)[]> {
  if (done.length === 0) return [];
  // The casts type the VALUES list (its parameters would otherwise be text).
  const values = sql.join(
    done.map((d) => sql`(${d.id}::text, ${d.token}::text, ${d.sha256}::text, ${d.size}::int8, ${d.now}::timestamptz, ${d.expiresAt}::timestamptz)`),
  );
  const { rows } = await sql<UploadRow & { completedBy: string }>`
    update uploads set
      state = 'complete', sha256 = done.sha256, bytes_received = done.size,
      parts_handle = null, writer_token = null, writer_lease_until = null,
      updated_at = done.now, expires_at = done.expires_at
    from (values ${values}) as done(id, token, sha256, size, now, expires_at)
    where uploads.id = done.id and uploads.writer_token = done.token and uploads.state = 'in_progress'
    returning uploads.*, done.token as completed_by`.execute(db);
  // By id and token: of two streams naming one upload in a batch, only the holder's completes it.
  const byClaim = new Map(rows.map(({ completedBy, ...row }) => [`${row.id} ${completedBy}`, row]));
  return done.map((d) => byClaim.get(`${d.id} ${d.token}`));
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
