/**
 * Staged uploads: bytes stream in, are hashed on the fly, and become durable
 * segment by segment in object storage. The database row says how many bytes
 * are durable, so a broken stream resumes on any replica. Nothing here is
 * visible to readers until a CreateDataset commits it.
 */
import { createHash, type Hash, randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Database, UploadRow } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { ConflictError, FailedPreconditionError, InvalidInputError, LimitExceededError, NotFoundError } from "./errors.js";
import { isWellFormedId, newId } from "./ids.js";
import { segmentKey, stagingPrefix } from "./object-keys.js";
import { SegmentWriter, type DurableSegment } from "./segment-writer.js";

export type UploadStart =
  | { kind: "new"; fileName: string; mediaType: string; size: number | undefined; sha256: string | undefined }
  | { kind: "resume"; uploadId: string; offset: number };

export interface UploadServiceDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  now: () => Date;
  segmentBytes: number;
  maxArtefactBytes: number;
  uploadTtlSeconds: number;
  /** How long a stream's claim on an upload outlives its last sign of life. */
  writerLeaseMs?: number;
}

export type UploadService = ReturnType<typeof createUploadService>;

/**
 * A stream that ended before its declared size. Unlike other input errors it
 * keeps the durable bytes: a client pausing or cut off mid-file resumes later.
 */
class IncompleteStreamError extends InvalidInputError {}

export function createUploadService(deps: UploadServiceDeps) {
  const { db, store, now } = deps;
  const leaseMs = deps.writerLeaseMs ?? 30_000;
  const later = (ms: number) => new Date(now().getTime() + ms);
  const expiry = () => later(deps.uploadTtlSeconds * 1000);

  /** Loads an upload of the caller's organisation; NotFoundError otherwise. */
  async function get(orgId: string, uploadId: string): Promise<UploadRow> {
    const row = isWellFormedId("up", uploadId)
      ? await db.selectFrom("uploads").selectAll().where("id", "=", uploadId).where("orgId", "=", orgId).executeTakeFirst()
      : undefined;
    if (!row) throw new NotFoundError(`upload "${uploadId}" not found`);
    return row;
  }

  async function start(orgId: string, s: Extract<UploadStart, { kind: "new" }>, token: string): Promise<UploadRow> {
    if (s.size !== undefined && s.size > deps.maxArtefactBytes) {
      throw new LimitExceededError(`declared size ${s.size} exceeds the server's artefact limit of ${deps.maxArtefactBytes} bytes`);
    }
    return db
      .insertInto("uploads")
      .values({
        id: newId("up"),
        orgId,
        fileName: s.fileName,
        mediaType: s.mediaType,
        declaredSize: s.size ?? null,
        declaredSha256: s.sha256 ?? null,
        state: "in_progress",
        bytesReceived: 0,
        segmentCount: 0,
        sha256: null,
        discardReason: null,
        writerToken: token,
        writerLeaseUntil: later(leaseMs),
        expiresAt: expiry(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async function resume(orgId: string, s: Extract<UploadStart, { kind: "resume" }>, token: string): Promise<UploadRow> {
    const row = await get(orgId, s.uploadId);
    assertWritable(row);
    if (s.offset !== row.bytesReceived) {
      throw new FailedPreconditionError(
        `upload "${row.id}" has ${row.bytesReceived} bytes durably staged: resume at offset ${row.bytesReceived}, not ${s.offset}`,
      );
    }
    const claimed = await db
      .updateTable("uploads")
      .set({ writerToken: token, writerLeaseUntil: later(leaseMs), updatedAt: now() })
      .where("id", "=", row.id)
      .where("state", "=", "in_progress")
      .where("segmentCount", "=", row.segmentCount)
      .where((eb) => eb.or([eb("writerLeaseUntil", "is", null), eb("writerLeaseUntil", "<", now())]))
      .returningAll()
      .executeTakeFirst();
    if (!claimed) {
      throw new ConflictError(`upload "${row.id}" is being written by another stream; retry in ${Math.ceil(leaseMs / 1000)} s`);
    }
    return claimed;
  }

  function assertWritable(row: UploadRow): void {
    if (row.state === "in_progress" && row.expiresAt <= now()) {
      throw new FailedPreconditionError(`upload "${row.id}" expired at ${row.expiresAt.toISOString()}; start a new upload`);
    }
    if (row.state !== "in_progress") {
      throw new FailedPreconditionError(`upload "${row.id}" is ${describeState(row)}; only an upload in progress can be resumed`);
    }
  }

  /** Feeds the bytes already durable into the hash, so a resumed upload still hashes the whole artefact. */
  async function rehash(hash: Hash, row: UploadRow): Promise<void> {
    for (let seq = 0; seq < row.segmentCount; seq++) {
      for await (const chunk of await store.get(segmentKey(row.orgId, row.id, seq))) hash.update(chunk as Buffer);
    }
  }

  /** Makes one segment durable in the upload's row; fails if another stream took the upload over. */
  async function recordSegment(row: UploadRow, token: string, segment: DurableSegment): Promise<void> {
    await db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable("uploads")
        .set({
          bytesReceived: sql`bytes_received + ${segment.size}`,
          segmentCount: segment.seq + 1,
          writerLeaseUntil: later(leaseMs),
          updatedAt: now(),
          expiresAt: expiry(),
        })
        .where("id", "=", row.id)
        .where("writerToken", "=", token)
        .where("state", "=", "in_progress")
        .where("segmentCount", "=", segment.seq)
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) {
        throw new ConflictError(`upload "${row.id}" was aborted or taken over by another stream while this one wrote`);
      }
      await trx
        .insertInto("uploadSegments")
        .values({ uploadId: row.id, seq: segment.seq, size: segment.size })
        .onConflict((oc) => oc.columns(["uploadId", "seq"]).doUpdateSet({ size: segment.size }))
        .execute();
    });
  }

  async function complete(row: UploadRow, token: string, sha256: string, size: number): Promise<UploadRow> {
    const done = await db
      .updateTable("uploads")
      .set({ state: "complete", sha256, writerToken: null, writerLeaseUntil: null, updatedAt: now(), expiresAt: expiry() })
      .where("id", "=", row.id)
      .where("writerToken", "=", token)
      .where("state", "=", "in_progress")
      .where("bytesReceived", "=", size)
      .returningAll()
      .executeTakeFirst();
    if (!done) throw new ConflictError(`upload "${row.id}" was aborted or taken over by another stream while this one wrote`);
    return done;
  }

  async function releaseLease(row: UploadRow, token: string): Promise<void> {
    await db
      .updateTable("uploads")
      .set({ writerToken: null, writerLeaseUntil: null })
      .where("id", "=", row.id)
      .where("writerToken", "=", token)
      .execute();
  }

  /** Marks an upload discarded and deletes its staged bytes (the janitor retries a failed delete). */
  async function discard(row: UploadRow, reason: string): Promise<UploadRow> {
    const discarded = await db
      .updateTable("uploads")
      .set({ state: "discarded", discardReason: reason, writerToken: null, writerLeaseUntil: null, updatedAt: now() })
      .where("id", "=", row.id)
      .where("state", "in", ["in_progress", "complete"])
      .returningAll()
      .executeTakeFirst();
    if (discarded) await purgeStaging(discarded);
    return discarded ?? (await get(row.orgId, row.id));
  }

  /** Deletes every staged object of a finished upload. Safe to repeat. */
  async function purgeStaging(row: UploadRow): Promise<void> {
    const keys: string[] = [];
    for await (const object of store.list(stagingPrefix(row.orgId, row.id))) keys.push(object.key);
    await store.delete(keys);
    await db.updateTable("uploads").set({ stagingPurged: true }).where("id", "=", row.id).execute();
  }

  /**
   * Receives an Upload stream: a new upload, or the rest of one that broke.
   * Throws InvalidInputError (the upload is then discarded, except for a
   * stream that merely ended early, which stays resumable), NotFoundError,
   * FailedPreconditionError, ConflictError, LimitExceededError.
   */
  async function receive(orgId: string, startWith: UploadStart, chunks: AsyncIterable<Uint8Array>): Promise<UploadRow> {
    const token = randomUUID();
    const row = startWith.kind === "new" ? await start(orgId, startWith, token) : await resume(orgId, startWith, token);
    const declaredSize = row.declaredSize ?? undefined;
    const hash = createHash("sha256");
    const writer = new SegmentWriter({
      store,
      segmentBytes: deps.segmentBytes,
      firstSeq: row.segmentCount,
      offset: row.bytesReceived,
      declaredSize,
      keyOf: (seq) => segmentKey(orgId, row.id, seq),
      onDurable: (segment) => recordSegment(row, token, segment),
    });
    try {
      await rehash(hash, row);
      let received = row.bytesReceived;
      for await (const chunk of chunks) {
        received += chunk.length;
        if (declaredSize !== undefined && received > declaredSize) {
          throw new InvalidInputError("chunk", `stream carries more than the declared ${declaredSize} bytes`);
        }
        if (received > deps.maxArtefactBytes) {
          throw new LimitExceededError(`artefact exceeds the server's limit of ${deps.maxArtefactBytes} bytes`);
        }
        hash.update(chunk);
        await writer.write(chunk);
      }
      if (declaredSize !== undefined && received < declaredSize) {
        await writer.abandon();
        const durable = writer.durableOffset;
        throw new IncompleteStreamError(
          "chunk",
          `stream ended after ${received} of the declared ${declaredSize} bytes; ${durable} are durably staged: ` +
            `resume upload "${row.id}" at offset ${durable}, or abort it`,
        );
      }
      await writer.finish();
      const sha256 = hash.digest("hex");
      if (row.declaredSha256 && row.declaredSha256 !== sha256) {
        throw new InvalidInputError(
          "sha256",
          `sha256 mismatch: declared ${row.declaredSha256}, the bytes received hash to ${sha256}; nothing was kept`,
        );
      }
      return await complete(row, token, sha256, received);
    } catch (error) {
      // Bad input fails the upload and keeps nothing; a broken connection or
      // an unreachable store keeps the durable bytes for a resume.
      await writer.abandon();
      const badInput = error instanceof InvalidInputError || error instanceof LimitExceededError;
      if (badInput && !(error instanceof IncompleteStreamError)) {
        await discard(row, error.message);
      } else {
        await releaseLease(row, token).catch(() => undefined);
      }
      throw error;
    }
  }

  /** Discards an upload that no dataset references yet; idempotent. */
  async function abort(orgId: string, uploadId: string): Promise<UploadRow> {
    const row = await get(orgId, uploadId);
    if (row.state === "committed") {
      throw new FailedPreconditionError(`upload "${row.id}" is committed to a dataset version and can no longer be aborted`);
    }
    return row.state === "discarded" ? row : discard(row, "aborted by the client");
  }

  return { receive, get, abort, discard, purgeStaging };
}

/** Words for an upload's state in messages, e.g. `still in progress`, `discarded (expired)`. */
export function describeState(row: UploadRow): string {
  switch (row.state) {
    case "in_progress":
      return "still in progress";
    case "complete":
      return "complete";
    case "committed":
      return "already committed";
    case "discarded":
      return `discarded (${row.discardReason ?? "no reason recorded"})`;
  }
}
