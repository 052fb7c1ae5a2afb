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
   * Writes the concatenation of `sources` (in order) to `dest`, server-side
   * where the provider can. `dest` appears whole or not at all. S3 requires
   * every source but the last to be at least 5 MiB.
   */
  compose(sources: readonly string[], dest: string): Promise<void>;
  /** Deletes objects; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every object whose key starts with `prefix`, in no particular order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
}

/** Thrown by `get` and `compose` when an object does not exist. */
export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = "ObjectNotFoundError";
  }
}
