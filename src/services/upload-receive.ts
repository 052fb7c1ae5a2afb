/**
 * How the bytes of one Upload stream are received: a small upload in memory,
 * hashed with node:crypto and written once to the upload's object; any other
 * upload in segments, each a part of that object (an S3 multipart upload, a
 * file appended to), hashed in a worker whose state is recorded with each
 * segment so that a resume continues from it. When the last byte is in, the
 * parts are completed into the object, at a key no other upload shares:
 * where the bytes will stay once committed. Both hold the stream's bytes
 * against the shared budget from arrival until stored.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import * as repo from "../db/uploads-repo.js";
import type { Database, UploadRow } from "../db/schema.js";
import { ObjectNotFoundError, type ObjectStore, PartsMismatchError, type PartsTarget } from "../storage/object-store.js";
import type { BudgetAccount } from "./byte-budget.js";
import { ConflictError, DeadlineExceededError, FailedPreconditionError, InvalidInputError, LimitExceededError, UnavailableError } from "./errors.js";
import { SegmentWriter } from "./segment-writer.js";
import type { HasherPool, StreamHasher } from "./stream-hasher.js";
import { IdleTimeout, LeaseLost } from "./upload-stream.js";

/**
 * A stream that ended before its declared size. Unlike other input errors it
 * keeps the durable bytes: a client pausing or cut off mid-file resumes later.
 */
export class IncompleteStreamError extends InvalidInputError {}

/** One stream being received, with what ends it early. */
export interface ReceivingStream {
  row: UploadRow;
  token: string;
  chunks: AsyncIterable<Uint8Array>;
  account: BudgetAccount;
  signal: AbortSignal;
  /** Bytes durably staged so far: where a resume starts. */
  durable: () => number;
}

export interface ReceiverDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  segmentBytes: number;
  maxArtefactBytes: number;
  hashers: () => HasherPool;
  /** Times written with each recorded segment (the renewed lease and expiry). */
  recordTimes: () => { now: Date; leaseUntil: Date; expiresAt: Date };
  complete: (row: UploadRow, token: string, done: { sha256: string; size: number }) => Promise<UploadRow>;
}

/**
 * An upload whose stored bytes cannot become its object: its parts were
 * aborted (it expired) or replaced by a stream that lost its claim. The
 * upload is discarded; its file must be sent again.
 */
export class UnusableUploadError extends FailedPreconditionError {}

/** The object an upload writes; every upload created since objects were written in parts has one. */
export function objectKeyOf(row: UploadRow): string {
  if (row.objectKey === null) throw new UnusableUploadError(`upload "${row.id}" was staged by an earlier version of the server; upload the file again`);
  return row.objectKey;
}

/** The error of a stream that lost its claim on its upload. */
export function lostClaim(row: UploadRow): ConflictError {
  return new ConflictError(`upload "${row.id}" was aborted or taken over by another stream while this one wrote`);
}

/** Throws InvalidInputError when the client declared another sha256 than its bytes have. */
export function verify(row: UploadRow, sha256: string): void {
  if (row.declaredSha256 && row.declaredSha256 !== sha256) {
    throw new InvalidInputError("sha256", `sha256 mismatch: declared ${row.declaredSha256}, the bytes received hash to ${sha256}; nothing was kept`);
  }
}

function incomplete(row: UploadRow, received: number, durable: number): IncompleteStreamError {
  return new IncompleteStreamError(
    "chunk",
    `stream ended after ${received} of the declared ${row.declaredSize} bytes; ${durable} are durably staged: ` +
      `resume upload "${row.id}" at offset ${durable}, or abort it`,
  );
}

/** The error a stream ended by its guard throws, once its durable part is known. */
export function endedBy(reason: unknown, row: UploadRow, durable: number): Error {
  if (reason instanceof IdleTimeout) {
    return new DeadlineExceededError(
      `upload "${row.id}" received no message for ${reason.idleMs / 1000} s; ${durable} bytes are durably staged: resume it at offset ${durable}`,
    );
  }
  if (reason instanceof LeaseLost) return lostClaim(row);
  // E.g. a shutdown: whoever aborted cannot know where this upload stands, so the hint is added here.
  if (reason instanceof UnavailableError) {
    return new UnavailableError(`${reason.message}; resume upload "${row.id}" at offset ${durable}`, { cause: reason });
  }
  if (reason instanceof Error) return reason;
  return new UnavailableError(`the upload stream ended; resume upload "${row.id}" at offset ${durable}`);
}

/** Receivers of a stream's bytes; each returns the completed upload or throws (see UploadService.receive). */
export function createReceiver(deps: ReceiverDeps) {
  const { db, store } = deps;

  /** Counts the bytes of a stream against the declared size and the server's limit. */
  async function* counted(row: UploadRow, chunks: AsyncIterable<Uint8Array>, progress: { received: number }) {
    for await (const chunk of chunks) {
      progress.received += chunk.length;
      if (row.declaredSize !== null && progress.received > row.declaredSize) {
        throw new InvalidInputError("chunk", `stream carries more than the declared ${row.declaredSize} bytes`);
      }
      if (progress.received > deps.maxArtefactBytes) {
        throw new LimitExceededError(`artefact exceeds the server's limit of ${deps.maxArtefactBytes} bytes`);
      }
      yield chunk;
    }
  }

  /** A small upload: buffered (it is at most `smallBytes`, within the budget), verified, then written once, as its object. */
  async function receiveSmall(s: ReceivingStream): Promise<UploadRow> {
    const { row } = s;
    const hash = createHash("sha256");
    const progress = { received: 0 };
    const parts: Uint8Array[] = [];
    for await (const chunk of counted(row, s.chunks, progress)) {
      await s.account.take(chunk.length, s.signal);
      hash.update(chunk);
      parts.push(chunk);
    }
    if (progress.received !== row.declaredSize) throw incomplete(row, progress.received, 0);
    const sha256 = hash.digest("hex");
    verify(row, sha256);
    await store.put(objectKeyOf(row), Readable.from(parts), progress.received);
    return deps.complete(row, s.token, { sha256, size: progress.received });
  }

  /** The hash of the upload's durable part, from the state saved with its last segment: no stored byte is read. */
  async function resumeHash(row: UploadRow): Promise<StreamHasher> {
    const hashers = deps.hashers();
    if (row.segmentCount === 0) return hashers.open();
    const state = await repo.hashStateAfter(db, row.id, row.segmentCount - 1);
    // resume() refuses uploads staged by earlier versions, the only ones without states.
    if (!state) throw new UnusableUploadError(`upload "${row.id}" has no recorded hash state; upload the file again`);
    return hashers.open(state);
  }

  /** The object the upload's parts go to: started by the first stream that stores a segment, and recorded for any replica. */
  async function partsTarget(row: UploadRow, token: string): Promise<PartsTarget> {
    const key = objectKeyOf(row);
    if (row.partsHandle !== null) return { key, handle: row.partsHandle };
    const handle = await store.startParts(key);
    if (!(await repo.recordPartsHandle(db, row.id, token, handle))) {
      await store.abortParts({ key, handle }).catch(() => undefined);
      throw lostClaim(row);
    }
    return { key, handle };
  }

  /** Completes the recorded parts into the upload's object (idempotent: a crash after it resumes and completes again). */
  async function completeObject(row: UploadRow, target: PartsTarget, size: number): Promise<void> {
    const parts = await repo.recordedParts(db, row.id);
    try {
      // No parts (an empty file of undeclared size) completes as an empty object.
      await store.completeParts(
        target,
        parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag ?? "" })),
        size,
      );
    } catch (error) {
      if (error instanceof PartsMismatchError) {
        throw new UnusableUploadError(`the stored parts of upload "${row.id}" were replaced by a stream that had lost its claim; upload the file again`, {
          cause: error,
        });
      }
      if (error instanceof ObjectNotFoundError) {
        throw new UnusableUploadError(`the stored parts of upload "${row.id}" are gone (aborted); upload the file again`, { cause: error });
      }
      throw error;
    }
  }

  /** Any other upload: streamed, a segment per part of its object, each recorded durable (with its etag and hash state) as it lands. */
  async function receiveSegments(s: ReceivingStream, setWriter: (w: SegmentWriter) => void): Promise<UploadRow> {
    const { row, token } = s;
    const hasher = await resumeHash(row);
    let target: Promise<PartsTarget> | undefined;
    const writer = new SegmentWriter({
      storeSegment: async (seq, offset, body, size) => {
        target ??= partsTarget(row, token);
        return store.putPart(await target, { partNumber: seq + 1, offset, size, writer: token }, body).catch((error: unknown) => {
          if (!(error instanceof ObjectNotFoundError)) throw error;
          throw new UnusableUploadError(`the object of upload "${row.id}" was aborted while this stream wrote it (did it expire?); upload the file again`, {
            cause: error,
          });
        });
      },
      segmentBytes: deps.segmentBytes,
      firstSeq: row.segmentCount,
      offset: row.bytesReceived,
      declaredSize: row.declaredSize ?? undefined,
      budget: s.account,
      hasher,
      signal: s.signal,
      // On S3 a part is sent whole once its last byte is in: a stream whose lease lapsed (another took the upload over)
      // learns it here and never replaces a part the other recorded. The etags checked at completion catch the rest.
      beforeSeal: async () => {
        if (!(await repo.renewLease(db, row.id, token, deps.recordTimes().leaseUntil))) throw lostClaim(row);
      },
      onDurable: async ({ seq, size, etag, hashState }) => {
        const segment = { seq, size, etag, hashState, objectKey: objectKeyOf(row) };
        if (!(await repo.recordSegment(db, row.id, token, segment, deps.recordTimes()))) throw lostClaim(row);
      },
    });
    setWriter(writer);
    try {
      const progress = { received: row.bytesReceived };
      for await (const chunk of counted(row, s.chunks, progress)) await writer.write(chunk);
      if (row.declaredSize !== null && progress.received < row.declaredSize) {
        await writer.abandon();
        throw incomplete(row, progress.received, writer.durableOffset);
      }
      await writer.finish();
      const sha256 = await hasher.digest();
      verify(row, sha256);
      await completeObject(row, await (target ?? partsTarget(row, token)), progress.received);
      return await deps.complete(row, token, { sha256, size: progress.received });
    } finally {
      await writer.abandon();
      hasher.close();
    }
  }

  return { small: receiveSmall, segments: receiveSegments };
}
