import type { Readable } from "node:stream";

/** What a stored object looks like from outside. */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

/**
 * The one interface every storage provider implements (local filesystem, S3).
 *
 * Keys are "/"-separated and are always built by the server from ids it
 * generated and hashes it computed, never from client-sent text. Every method
 * streams: no provider may hold a whole object in memory, except where a
 * provider documents a bounded buffer.
 */
export interface ObjectStore {
  /**
   * Writes `body` to `key`, replacing any object there; the object appears
   * whole or not at all (never partially written). When `size` is given the
   * body must carry exactly that many bytes, else the put fails and nothing is
   * stored. Without a size, S3 buffers the body in memory: callers bound it.
   */
  put(key: string, body: Readable, size?: number): Promise<void>;
  /** Streams an object from `offset` (default 0). Throws ObjectNotFoundError. */
  get(key: string, offset?: number): Promise<Readable>;
  /** Size and modification time, or undefined when there is no such object. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Starts an object at `key` that is written in numbered parts (an S3
   * multipart upload; a partial file on the local provider) and returns the
   * provider's handle for it, which the caller records: any process holding
   * the key and handle can add parts, complete or abort it. Nothing is
   * visible at `key` until completeParts.
   */
  startParts(key: string): Promise<string>;
  /**
   * Stores one part. `partNumber` counts from 1 (at most 10,000); the part
   * holds the object's bytes from `offset` on, `size` of them when given (the
   * body must then carry exactly that many, else nothing is stored). Every
   * part but the last must hold at least 5 MiB. Storing a part number again
   * replaces it. Durable when it resolves. On the local provider the parts
   * append to one file: a part must start where the parts before it end (one
   * starting further is refused), and storing a part truncates the file at
   * its offset, dropping any part after it; on S3 parts are independent.
   * Returns the part's etag, which completeParts checks. `writer` names the
   * stream writing the part: once a part from a new writer is stored, parts
   * still arriving from an earlier one are refused (local provider; on S3 the
   * etag check catches them).
   * Throws ObjectNotFoundError when the handle is unknown (aborted, completed).
   */
  putPart(target: PartsTarget, part: PartSpec, body: Readable): Promise<string>;
  /**
   * Makes the parts, in order, the object at `target.key`, whole or not at
   * all. Throws PartsMismatchError when a part is missing or its stored
   * etag is not the one given (another writer replaced it). Idempotent: when
   * the parts were already completed and the key holds `size` bytes, it
   * resolves; when neither, it throws ObjectNotFoundError. With no parts the
   * object is empty (`size` must be 0). The local provider checks the size,
   * not the etags: it fences stale writers off in putPart instead.
   */
  completeParts(target: PartsTarget, parts: readonly CompletedPart[], size: number): Promise<void>;
  /** Discards a started object and its parts. An unknown handle (completed, aborted) is not an error. */
  abortParts(target: PartsTarget): Promise<void>;
  /** Objects under `prefix` that were started and neither completed nor aborted, in no particular order. */
  listStarted(prefix: string): AsyncIterable<StartedObject>;
  /** Deletes objects; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every object whose key starts with `prefix`, in no particular order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
}

/** An object being written in parts: its key and the handle startParts returned. */
export interface PartsTarget {
  key: string;
  handle: string;
}

export interface PartSpec {
  partNumber: number;
  offset: number;
  size?: number | undefined;
  writer: string;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface StartedObject extends PartsTarget {
  startedAt: Date;
}

/** Thrown by completeParts when the stored parts are not the ones recorded. */
export class PartsMismatchError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`the parts of ${key} are not the ones recorded: ${detail}`);
    this.name = "PartsMismatchError";
  }
}

/** Thrown by `get` (and completeParts) when an object does not exist. */
export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = "ObjectNotFoundError";
  }
}
