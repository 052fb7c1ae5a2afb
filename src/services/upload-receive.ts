/**
 * How the bytes of one Upload stream are received: a small upload in memory,
 * hashed with node:crypto and written once to its blob; any other upload in
 * staged segments, hashed in a worker whose state is recorded with each
 * segment so that a resume continues from it. Both hold the stream's bytes
 * against the shared budget from arrival until stored.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import * as repo from "../db/uploads-repo.js";
import type { Database, UploadRow } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { leaseBlobs } from "./blobs.js";
import type { BudgetAccount } from "./byte-budget.js";
import { ConflictError, DeadlineExceededError, InvalidInputError, LimitExceededError, UnavailableError } from "./errors.js";
import { blobKey, legacySegmentKey, segmentKey } from "./object-keys.js";
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
  /** How long the blob of a small upload stays leased. */
  blobLeaseUntil: () => Date;
  /** Times written with each recorded segment (the renewed lease and expiry). */
  recordTimes: () => { now: Date; leaseUntil: Date; expiresAt: Date };
  complete: (row: UploadRow, token: string, done: { sha256: string; size: number; storedAsBlob: boolean }) => Promise<UploadRow>;
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

  /** A small upload: buffered (it is at most `smallBytes`, within the budget), verified, then written once to its blob. */
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
    // The lease outlives the upload's expiry, so the blob stays until a commit references it or the upload is gone.
    const existed = await leaseBlobs(db, row.orgId, new Map([[sha256, progress.received]]), deps.blobLeaseUntil());
    const key = blobKey(row.orgId, sha256);
    if (!existed.has(sha256) || (await store.stat(key))?.size !== progress.received) {
      await store.put(key, Readable.from(parts), progress.received);
    }
    return deps.complete(row, s.token, { sha256, size: progress.received, storedAsBlob: true });
  }

  /** The hash of the upload's durable part, from the state saved with its last segment: no stored byte is read. */
  async function resumeHash(row: UploadRow): Promise<StreamHasher> {
    const hashers = deps.hashers();
    if (row.segmentCount === 0) return hashers.open();
    const state = await repo.hashStateAfter(db, row.id, row.segmentCount - 1);
    if (state) return hashers.open(state);
    // Staged before hash states were recorded: rebuilt once from the stored bytes.
    const hasher = hashers.open();
    try {
      for (let seq = 0; seq < row.segmentCount; seq++) {
        for await (const chunk of await store.get(legacySegmentKey(row.orgId, row.id, seq))) await hasher.update(chunk as Buffer);
      }
      return hasher;
    } catch (error) {
      hasher.close();
      throw error;
    }
  }

  /** Any other upload: streamed into staged segments, each recorded durable (with its hash state) as it lands. */
  async function receiveSegments(s: ReceivingStream, setWriter: (w: SegmentWriter) => void): Promise<UploadRow> {
    const { row, token } = s;
    const hasher = await resumeHash(row);
    const writer = new SegmentWriter({
      store,
      segmentBytes: deps.segmentBytes,
      firstSeq: row.segmentCount,
      offset: row.bytesReceived,
      declaredSize: row.declaredSize ?? undefined,
      keyOf: (seq) => segmentKey(row.orgId, row.id, seq, token),
      budget: s.account,
      hasher,
      signal: s.signal,
      onDurable: async (segment) => {
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
      return await deps.complete(row, token, { sha256, size: progress.received, storedAsBlob: false });
    } finally {
      await writer.abandon();
      hasher.close();
    }
  }

  return { small: receiveSmall, segments: receiveSegments };
}
