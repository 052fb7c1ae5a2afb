/**
 * Staged uploads: bytes stream in, are hashed on the fly, and become durable
 * segment by segment in object storage. The database row says how many bytes
 * are durable, so a broken stream resumes on any replica. Nothing here is
 * visible to readers until a CreateDataset commits it.
 *
 * Small uploads of declared size (the many-small-files case) skip staging:
 * they are held in memory, verified, and written once, straight to their
 * content-addressed blob under a lease, so their commit copies nothing.
 *
 * Every stream's bytes count against one budget from arrival until stored; a
 * stream ends when its client goes away, when it sends nothing for the idle
 * timeout, or when it loses its writer lease, and keeps its durable part.
 */
import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { Kysely } from "kysely";
import * as repo from "../db/uploads-repo.js";
import type { Database, UploadRow } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { leaseBlobs } from "./blobs.js";
import { type BudgetAccount, ByteBudget } from "./byte-budget.js";
import {
  ConflictError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidInputError,
  LimitExceededError,
  NotFoundError,
  UnavailableError,
} from "./errors.js";
import { isWellFormedId, newId } from "./ids.js";
import { blobKey, legacySegmentKey, segmentKey, stagingPrefix } from "./object-keys.js";
import { SegmentWriter } from "./segment-writer.js";
import { createHasherPool, type HasherPool, type StreamHasher } from "./stream-hasher.js";
import { IdleTimeout, LeaseLost, StreamGuard } from "./upload-stream.js";

export interface NewUpload {
  fileName: string;
  mediaType: string;
  size: number | undefined;
  sha256: string | undefined;
}

export type UploadStart = ({ kind: "new" } & NewUpload) | { kind: "resume"; uploadId: string; offset: number };

export interface UploadServiceDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  now: () => Date;
  segmentBytes: number;
  maxArtefactBytes: number;
  uploadTtlSeconds: number;
  /** Bytes of staged segments all uploads together may hold in flight. */
  inFlightBytes: number;
  /** Uploads of at most this declared size go straight to their blob. */
  smallUploadBytes?: number;
  /** How long a stream's claim on an upload outlives its last sign of life; renewed while the stream lives. */
  writerLeaseMs?: number;
  /** A stream that delivers no message for this long ends with DeadlineExceededError. */
  idleTimeoutMs?: number;
  /** Hashes staged uploads off the event loop; one per process is plenty. */
  hashers?: HasherPool;
}

export interface UploadStats {
  budgetCapacity: number;
  budgetInUse: number;
  budgetWaiters: number;
  activeStreams: number;
}

export type UploadService = ReturnType<typeof createUploadService>;

/**
 * A stream that ended before its declared size. Unlike other input errors it
 * keeps the durable bytes: a client pausing or cut off mid-file resumes later.
 */
class IncompleteStreamError extends InvalidInputError {}

const HOUR = 3600 * 1000;

export function createUploadService(deps: UploadServiceDeps) {
  const { db, store, now } = deps;
  const leaseMs = deps.writerLeaseMs ?? 30_000;
  const smallBytes = deps.smallUploadBytes ?? 1024 * 1024;
  const later = (ms: number) => new Date(now().getTime() + ms);
  const expiry = () => later(deps.uploadTtlSeconds * 1000);
  const idleMs = deps.idleTimeoutMs ?? 60_000;
  const budget = new ByteBudget(Math.max(deps.inFlightBytes, deps.segmentBytes));
  let hashers = deps.hashers;
  let activeStreams = 0;
  const lostClaim = (row: UploadRow) =>
    new ConflictError(`upload "${row.id}" was aborted or taken over by another stream while this one wrote`);

  /** Loads an upload of the caller's organisation; NotFoundError otherwise. */
  async function get(orgId: string, uploadId: string): Promise<UploadRow> {
    const row = isWellFormedId("up", uploadId) ? await repo.findUpload(db, orgId, uploadId) : undefined;
    if (!row) throw new NotFoundError(`upload "${uploadId}" not found`);
    return row;
  }

  /** Creates an upload; with a token, the calling stream holds it, without one any stream may claim it. */
  async function start(orgId: string, s: NewUpload, token: string | null): Promise<UploadRow> {
    if (s.size !== undefined && s.size > deps.maxArtefactBytes) {
      throw new LimitExceededError(`declared size ${s.size} exceeds the server's artefact limit of ${deps.maxArtefactBytes} bytes`);
    }
    return repo.insertUpload(db, {
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
      writerLeaseUntil: token === null ? null : later(leaseMs),
      expiresAt: expiry(),
    });
  }

  /** Creates an upload with no bytes yet (CreateUpload); its bytes follow as a resume at offset 0. */
  async function create(orgId: string, s: NewUpload): Promise<UploadRow> {
    return start(orgId, s, null);
  }

  async function resume(orgId: string, s: Extract<UploadStart, { kind: "resume" }>, token: string): Promise<UploadRow> {
    const row = await get(orgId, s.uploadId);
    if (row.state === "in_progress" && row.expiresAt <= now()) {
      throw new FailedPreconditionError(`upload "${row.id}" expired at ${row.expiresAt.toISOString()}; start a new upload`);
    }
    if (row.state !== "in_progress") {
      throw new FailedPreconditionError(`upload "${row.id}" is ${describeState(row)}; only an upload in progress can be resumed`);
    }
    if (s.offset !== row.bytesReceived) {
      throw new FailedPreconditionError(
        `upload "${row.id}" has ${row.bytesReceived} bytes durably staged: resume at offset ${row.bytesReceived}, not ${s.offset}`,
      );
    }
    const claimed = await repo.claimUpload(db, row, { token, leaseUntil: later(leaseMs), now: now() });
    if (!claimed) {
      throw new ConflictError(`upload "${row.id}" is being written by another stream; retry in ${Math.ceil(leaseMs / 1000)} s`);
    }
    return claimed;
  }

  async function complete(row: UploadRow, token: string, done: { sha256: string; size: number; storedAsBlob: boolean }) {
    const completed = await repo.completeUpload(db, row.id, token, { ...done, now: now(), expiresAt: expiry() });
    if (!completed) throw lostClaim(row);
    return completed;
  }

  function verify(row: UploadRow, sha256: string): void {
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

  interface Stream {
    row: UploadRow;
    token: string;
    chunks: AsyncIterable<Uint8Array>;
    account: BudgetAccount;
    signal: AbortSignal;
    /** Bytes durably staged so far: where a resume starts. */
    durable: () => number;
  }

  /** A small upload: buffered (it is at most `smallBytes`, within the budget), verified, then written once to its blob. */
  async function receiveSmall(s: Stream): Promise<UploadRow> {
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
    const existed = await leaseBlobs(db, row.orgId, new Map([[sha256, progress.received]]), new Date(expiry().getTime() + HOUR));
    const key = blobKey(row.orgId, sha256);
    if (!existed.has(sha256) || (await store.stat(key))?.size !== progress.received) {
      await store.put(key, Readable.from(parts), progress.received);
    }
    return complete(row, s.token, { sha256, size: progress.received, storedAsBlob: true });
  }

  /** The hash of the upload's durable part, from the state saved with its last segment: no stored byte is read. */
  async function resumeHash(row: UploadRow): Promise<StreamHasher> {
    hashers ??= createHasherPool();
    if (row.segmentCount === 0) return hashers.open();
    const state = await repo.hashStateAfter(db, row.id, row.segmentCount - 1);
    if (state) return hashers.open(state);
    // Staged before hash states were recorded: rebuilt once from the stored bytes.
    const hasher = hashers.open();
    for (let seq = 0; seq < row.segmentCount; seq++) {
      for await (const chunk of await store.get(legacySegmentKey(row.orgId, row.id, seq))) await hasher.update(chunk as Buffer);
    }
    return hasher;
  }

  /** Any other upload: streamed into staged segments, each recorded durable (with its hash state) as it lands. */
  async function receiveSegments(s: Stream, setWriter: (w: SegmentWriter) => void): Promise<UploadRow> {
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
        const times = { now: now(), leaseUntil: later(leaseMs), expiresAt: expiry() };
        if (!(await repo.recordSegment(db, row.id, token, segment, times))) throw lostClaim(row);
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
      return await complete(row, token, { sha256, size: progress.received, storedAsBlob: false });
    } finally {
      await writer.abandon();
      hasher.close();
    }
  }

  /** The error a stream ended by its guard throws, once its durable part is known. */
  function endedBy(reason: unknown, row: UploadRow, durable: number): Error {
    if (reason instanceof IdleTimeout) {
      return new DeadlineExceededError(
        `upload "${row.id}" received no message for ${reason.idleMs / 1000} s; ${durable} bytes are durably staged: resume it at offset ${durable}`,
      );
    }
    if (reason instanceof LeaseLost) return lostClaim(row);
    if (reason instanceof Error) return reason;
    return new UnavailableError(`the upload stream ended; resume upload "${row.id}" at offset ${durable}`);
  }

  /**
   * Receives an Upload stream: a new upload, or the rest of one that broke.
   * When `signal` aborts (or the stream idles past the timeout, or loses its
   * lease) it ends promptly, keeps its durable part and releases its lease,
   * throwing `signal.reason` if that is an Error (DeadlineExceededError,
   * ConflictError for the other two). Also throws InvalidInputError or
   * LimitExceededError (the upload is then discarded, except for a stream
   * that merely ended early, which stays resumable), NotFoundError,
   * FailedPreconditionError, ConflictError.
   */
  async function receive(orgId: string, startWith: UploadStart, chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<UploadRow> {
    signal?.throwIfAborted();
    const token = randomUUID();
    const row = startWith.kind === "new" ? await start(orgId, startWith, token) : await resume(orgId, startWith, token);
    // Small uploads keep nothing durable until they complete, so a resume of one starts at 0.
    const small = row.bytesReceived === 0 && row.declaredSize !== null && row.declaredSize <= smallBytes;
    const guard = new StreamGuard({
      signal,
      idleMs,
      renewEveryMs: Math.max(1000, leaseMs / 3),
      renew: () => repo.renewLease(db, row.id, token, later(leaseMs)),
    });
    const account = budget.account(orgId);
    let writer: SegmentWriter | undefined;
    const stream: Stream = {
      row,
      token,
      chunks: guard.guard(chunks),
      account,
      signal: guard.signal,
      durable: () => writer?.durableOffset ?? row.bytesReceived,
    };
    activeStreams++;
    try {
      return small ? await receiveSmall(stream) : await receiveSegments(stream, (w) => (writer = w));
    } catch (error) {
      // Bad input fails the upload and keeps nothing; a broken connection,
      // an idle or cancelled stream or an unreachable store keeps the durable
      // bytes for a resume, and lets another stream resume at once.
      const badInput = error instanceof InvalidInputError || error instanceof LimitExceededError;
      if (badInput && !(error instanceof IncompleteStreamError)) {
        await discard(row, error.message);
      } else {
        await repo.releaseWriter(db, row.id, token).catch(() => undefined);
      }
      throw guard.signal.aborted ? endedBy(guard.signal.reason, row, stream.durable()) : error;
    } finally {
      activeStreams--;
      guard.close();
      account.close();
    }
  }

  function stats(): UploadStats {
    const b = budget.stats();
    return { budgetCapacity: b.capacity, budgetInUse: b.inUse, budgetWaiters: b.waiters, activeStreams };
  }

  /** Marks an upload discarded and deletes its staged bytes (the janitor retries a failed delete). */
  async function discard(row: UploadRow, reason: string): Promise<UploadRow> {
    const discarded = await repo.markDiscarded(db, row.id, reason, now());
    if (discarded) await purgeStaging(discarded);
    return discarded ?? (await get(row.orgId, row.id));
  }

  /** Deletes every staged object of a finished upload. Safe to repeat. */
  async function purgeStaging(row: UploadRow): Promise<void> {
    const keys: string[] = [];
    for await (const object of store.list(stagingPrefix(row.orgId, row.id))) keys.push(object.key);
    await store.delete(keys);
    await repo.markPurged(db, [row.id]);
  }

  /** Discards an upload that no dataset references yet; idempotent. */
  async function abort(orgId: string, uploadId: string): Promise<UploadRow> {
    const row = await get(orgId, uploadId);
    if (row.state === "committed") {
      throw new FailedPreconditionError(`upload "${row.id}" is committed to a dataset version and can no longer be aborted`);
    }
    return row.state === "discarded" ? row : discard(row, "aborted by the client");
  }

  return { create, receive, get, abort, purgeStaging, stats };
}

/** Object keys of a complete upload's staged segments, in order, as recorded (a stale writer's objects are not among them). */
export async function stagedSegmentKeys(db: Kysely<Database>, upload: UploadRow): Promise<string[]> {
  const keys = await repo.segmentKeys(db, upload.id);
  if (keys.length === upload.segmentCount) return keys;
  // Staged before segment keys were recorded.
  return Array.from({ length: upload.segmentCount }, (_, seq) => legacySegmentKey(upload.orgId, upload.id, seq));
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
