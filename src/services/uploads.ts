/**
 * Staged uploads: bytes stream in, are hashed on the fly, and become durable
 * segment by segment in object storage. The database row says how many bytes
 * are durable, so a broken stream resumes on any replica. Nothing here is
 * visible to readers until a CreateDataset commits it.
 *
 * Every upload writes its bytes once, to an object of its own; a commit only
 * points a blob row at it. Small uploads of declared size (the many-small-files
 * case) are held in memory, verified, and written in one put; others arrive as
 * the parts of that object.
 *
 * Every stream's bytes count against one budget from arrival until stored; a
 * stream ends when its client goes away, when it sends nothing for the idle
 * timeout, or when it loses its writer lease, and keeps its durable part.
 */
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import * as repo from "../db/uploads-repo.js";
import type { Database, NewUploadRow, UploadRow } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { coalesce } from "../util/coalesce.js";
import { ByteBudget } from "./byte-budget.js";
import { ConflictError, DeadlineExceededError, FailedPreconditionError, InvalidInputError, LimitExceededError, NotFoundError } from "./errors.js";
import { isWellFormedId, newId } from "./ids.js";
import { stagingPrefix, uploadObjectKey } from "./object-keys.js";
import type { SegmentWriter } from "./segment-writer.js";
import { createHasherPool, type HasherPool } from "./stream-hasher.js";
import { createReceiver, endedBy, IncompleteStreamError, lostClaim, type ReceivingStream, UnusableUploadError } from "./upload-receive.js";
import { IdleTimeout, StreamGuard, within } from "./upload-stream.js";

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
  // Every Upload stream inserts its row and completes it: with many small files in flight, those
  // go to the database a batch at a time (one statement each), not one round trip per stream.
  const batched = { maxBatch: 100, maxInFlight: 2, isolate: repo.isRefusedValue };
  const insertUpload = coalesce((rows: NewUploadRow[]) => repo.insertUploads(db, rows), batched);
  const completeUpload = coalesce((done: repo.CompletedUpload[]) => repo.completeUploads(db, done), batched);
  const receiver = createReceiver({
    db,
    store,
    segmentBytes: deps.segmentBytes,
    maxArtefactBytes: deps.maxArtefactBytes,
    hashers: () => (hashers ??= createHasherPool()),
    recordTimes: () => ({ now: now(), leaseUntil: later(leaseMs), expiresAt: expiry() }),
    complete,
  });

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
    const id = newId("up");
    return insertUpload({
      id,
      orgId,
      objectKey: uploadObjectKey(orgId, id),
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
    if (row.objectKey === null) {
      // Its segments are separate objects, which cannot become parts of one without a copy.
      await discard(row, "staged by an earlier version of the server");
      throw new FailedPreconditionError(`upload "${row.id}" was staged by an earlier version of the server and cannot be resumed; upload the file again`);
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

  async function complete(row: UploadRow, token: string, done: { sha256: string; size: number }) {
    const completed = await completeUpload({ id: row.id, token, ...done, now: now(), expiresAt: expiry() });
    if (!completed) throw lostClaim(row);
    return completed;
  }

  /**
   * Receives an Upload stream: a new upload, or the rest of one that broke.
   * When `signal` aborts (or the stream idles past the timeout, or loses its
   * lease) it ends promptly, keeps its durable part and releases its lease,
   * throwing `signal.reason` if that is an Error (an UnavailableError, e.g.
   * "server shutting down", gets `; resume upload "X" at offset N` appended),
   * DeadlineExceededError or ConflictError for the other two. Also throws InvalidInputError or
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
    const stream: ReceivingStream = {
      row,
      token,
      chunks: guard.guard(chunks),
      account,
      signal: guard.signal,
      durable: () => writer?.durableOffset ?? row.bytesReceived,
    };
    activeStreams++;
    try {
      return small ? await receiver.small(stream) : await receiver.segments(stream, (w) => (writer = w));
    } catch (error) {
      // Bad input fails the upload and keeps nothing; a broken connection,
      // an idle or cancelled stream or an unreachable store keeps the durable
      // bytes for a resume, and lets another stream resume at once.
      const badInput = error instanceof InvalidInputError || error instanceof LimitExceededError;
      if ((badInput && !(error instanceof IncompleteStreamError)) || error instanceof UnusableUploadError) {
        await discard(row, error.message);
      } else {
        await repo.releaseWriter(db, row.id, token).catch(() => undefined);
      }
      // Only an end the guard caused is reworded; a failure of the request itself (e.g. a message over
      // the size limit, which also aborts the caller's signal) keeps its own error.
      throw guard.signal.aborted && error === guard.signal.reason ? endedBy(error, row, stream.durable()) : error;
    } finally {
      activeStreams--;
      guard.close();
      account.close();
    }
  }

  /**
   * Waits for an Upload stream's first message within the idle timeout.
   * Throws DeadlineExceededError when none comes, or `signal.reason`.
   */
  async function firstMessage<T>(pending: Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await within(pending, idleMs, signal);
    } catch (error) {
      if (!(error instanceof IdleTimeout)) throw error;
      throw new DeadlineExceededError(`the Upload stream sent no header for ${idleMs / 1000} s; send the header first`);
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

  /**
   * Deletes what a finished (committed or discarded) upload left in object
   * storage that nothing needs: its unfinished parts, its object unless a
   * blob row points to it (a committed upload's duplicate bytes), and
   * segment objects staged by earlier versions. Safe to repeat.
   */
  async function purgeStaging(row: UploadRow): Promise<void> {
    if (row.objectKey === null) {
      const keys: string[] = [];
      for await (const object of store.list(stagingPrefix(row.orgId, row.id))) keys.push(object.key);
      await store.delete(keys);
    } else {
      const target = { key: row.objectKey, handle: row.partsHandle ?? "" };
      if (row.partsHandle !== null) await store.abortParts(target);
      if (!(await repo.isBlobObject(db, row))) await store.delete([row.objectKey]);
    }
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

  return { create, receive, firstMessage, get, abort, purgeStaging, stats };
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
