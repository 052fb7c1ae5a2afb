import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import type { BucketItem } from "minio";
import { markOrigin } from "../util/backend-origin.js";
import { ObjectNotFoundError } from "./object-store.js";
import type { CompletedPart, ObjectInfo, ObjectStore, PartsTarget } from "./object-store.js";
import { checksumHeaders, codeOf, createS3Parts, takeBody } from "./s3-parts.js";
import { StreamingClient } from "./s3-streaming.js";

const MiB = 1024 * 1024;
// S3's multipart limits: every part but the last ≥ 5 MiB, any part (and a
// single PUT) ≤ 5 GiB, at most 10,000 parts per object.
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;
const DEFAULT_PART = 16 * MiB;
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Bodies up to this size are joined and sent as one buffer (a copy this small costs less than a stream). */
const SMALL_BODY = MiB;

export interface S3StoreOptions {
  /** e.g. "http://127.0.0.1:9000"; https selects TLS. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region?: string;
  /** Prepended to every key, with a "/" appended when missing. */
  prefix?: string;
  /** Bytes buffered per upload part (5 MiB to 5 GiB, default 16 MiB): the memory one put holds. */
  partSize?: number;
  /** A request whose connection stays silent this long fails with ETIMEDOUT (default 60 s). */
  requestTimeoutMs?: number;
}

/**
 * An ObjectStore on an S3-compatible service, creating the bucket if missing.
 * Uploads are cut into `partSize` parts here rather than by minio's putObject,
 * which ignores a wrong declared size, never aborts a failed multipart upload,
 * and hangs (or crashes the process on an unhandled 'error') when the body fails.
 * @throws RangeError on a bad partSize; the client's errors when the bucket cannot be created.
 */
export async function createS3Store(opts: S3StoreOptions): Promise<ObjectStore> {
  const url = new URL(opts.endpoint);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`S3 endpoint ${opts.endpoint} must start with http:// or https://`);
  }
  const useSSL = url.protocol === "https:";
  const partSize = opts.partSize ?? DEFAULT_PART;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART || partSize > MAX_PART) {
    throw new RangeError(`S3 partSize must be between 5 MiB and 5 GiB, got ${opts.partSize}`);
  }
  const { bucket, prefix } = opts;
  const base = prefix ? prefix.replace(/\/*$/, "/") : "";
  const client = new StreamingClient({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: opts.accessKey,
    secretKey: opts.secretKey,
    region: opts.region,
    partSize,
    transport: timingOut(useSSL ? https : http, opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
    // A failed request fails the call: every caller is safe to retry (an upload
    // resumes, a commit is idempotent), and a body sent as a stream cannot be
    // sent twice. (minio-js would also announce each retry with console.warn.)
    retryOptions: { disableRetry: true },
  });
  // Over http, minio-js signs a SHA-256 of every payload: a second hash of every
  // uploaded byte, as costly as the upload's own. Over https it sends
  // UNSIGNED-PAYLOAD instead; do the same everywhere, and let the store verify
  // each body against a CRC32 we send with it (crc32 runs at gigabytes a second).
  client.enableSHA256 = false;
  if (!(await client.bucketExists(bucket))) {
    await client.makeBucket(bucket, opts.region).catch((e: unknown) => {
      if (codeOf(e) !== "BucketAlreadyOwnedByYou") throw e; // another process won the race
    });
  }

  const objectName = (key: string) => base + checkKey(key);

  const parts = createS3Parts({ client, region: opts.region ?? "us-east-1", bucket, base, objectName, stat });

  async function put(key: string, body: Readable, size?: number): Promise<void> {
    const name = objectName(key);
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) throw new RangeError(`invalid size ${size}`);
    // A declared size may need larger parts to fit in MAX_PARTS.
    const part = size === undefined ? partSize : Math.max(partSize, Math.ceil(size / MAX_PARTS));
    if (size !== undefined && size <= part) return putWhole(key, name, body, size);
    // Larger bodies go as the parts of one object, whole or not at all.
    let target: PartsTarget | undefined;
    const done: CompletedPart[] = [];
    let total = 0;
    try {
      for await (const { data, last } of cutParts(body, part)) {
        total += data.length;
        if (size !== undefined && (total > size || (last && total !== size))) {
          throw new Error(`object ${key}: ${size} bytes were declared but the body carried ${last ? total : `more than ${size}`}`);
        }
        if (last && target === undefined) {
          await putBuffer(name, data); // fits one part: one atomic PUT
          return;
        }
        if (data.length === 0) break;
        if (done.length === MAX_PARTS) throw new Error(`object ${key} needs more than ${MAX_PARTS} parts`);
        target ??= { key, handle: await parts.startParts(key) };
        const partNumber = done.length + 1;
        const spec = { partNumber, offset: total - data.length, size: data.length, writer: "put" };
        done.push({ partNumber, etag: await parts.putPart(target, spec, Readable.from([data])) });
      }
      if (target !== undefined) await parts.completeParts(target, done, total);
    } catch (e) {
      // Best effort: the caller needs the original error, and a bucket lifecycle
      // rule (AbortIncompleteMultipartUpload) reclaims what an abort leaves.
      if (target !== undefined) await parts.abortParts(target).catch(() => undefined);
      throw e;
    }
  }

  /**
   * A body of known size that fits one part: its chunks are kept as they
   * arrive and sent, as they are, in one PUT once the last one is in (one
   * atomic object, no copy). Not a buffer of the whole size up front: a body
   * that arrives slowly (a stalled upload) would hold memory for bytes never sent.
   */
  async function putWhole(key: string, name: string, body: Readable, size: number): Promise<void> {
    const { chunks, crc } = await takeBody(key, body, size);
    // A small body (the many-small-files case) goes as one buffer: the request is written
    // at once, without the stream pipeline a body stream costs per request.
    if (size <= SMALL_BODY) return putBuffer(name, Buffer.concat(chunks, size), crc);
    const headers = { "content-length": String(size), ...checksumHeaders(crc) };
    const res = await client.makeRequestStreamAsync({ method: "PUT", bucketName: bucket, objectName: name, headers }, Readable.from(chunks), "", [200], "");
    res.resume();
  }

  // Not putObject: given a Buffer it copies it into a stream and back into a
  // new Buffer, and hashes it twice (an md5 it then ignores over http, and the
  // sha256 that signs the request). makeRequestAsync signs and sends it as is.
  async function putBuffer(name: string, data: Buffer, crc = zlib.crc32(data)): Promise<void> {
    const res = await client.makeRequestAsync({ method: "PUT", bucketName: bucket, objectName: name, headers: checksumHeaders(crc) }, data, [200]);
    res.resume();
  }

  async function get(key: string, offset = 0): Promise<Readable> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`invalid offset ${offset}`);
    const name = objectName(key);
    try {
      return offset === 0 ? await client.getObject(bucket, name) : await client.getPartialObject(bucket, name, offset);
    } catch (e) {
      if (isNotFound(e)) throw new ObjectNotFoundError(key);
      // S3 refuses a range starting at or past the end; like a file, answer with no bytes.
      if (codeOf(e) === "InvalidRange") {
        const info = await stat(key);
        if (!info) throw new ObjectNotFoundError(key);
        if (offset >= info.size) return Readable.from([]);
      }
      throw e;
    }
  }

  async function stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await client.statObject(bucket, objectName(key));
      return { key, size: s.size, lastModified: s.lastModified };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async function deleteKeys(keys: readonly string[]): Promise<void> {
    const names = keys.map(objectName);
    for (let i = 0; i < names.length; i += 1000) {
      const results = await client.removeObjects(bucket, names.slice(i, i + 1000));
      // minio's type says { Error: {...} }, but its parser returns the Error elements themselves.
      const failed = results
        .map((r) => (r && "Error" in r ? r.Error : r) as { Code?: string; Key?: string } | null | undefined)
        .filter((r) => r && r.Code !== "NoSuchKey");
      if (failed.length > 0) {
        throw new Error(`deleting ${failed.length} objects failed, e.g. ${failed[0]?.Key}: ${failed[0]?.Code}`);
      }
    }
  }

  async function* list(prefix: string): AsyncIterable<ObjectInfo> {
    const cut = prefix.lastIndexOf("/");
    if (cut >= 0) checkKey(prefix.slice(0, cut));
    // BucketStream is typed as a byte stream but yields BucketItem objects.
    const items = client.listObjectsV2(bucket, base + prefix, true) as unknown as AsyncIterable<BucketItem>;
    for await (const item of items) {
      if (item.name === undefined) continue; // a common prefix; none come back from a recursive listing
      yield { key: item.name.slice(base.length), size: item.size, lastModified: item.lastModified };
    }
  }

  // Every error the store raises is marked as object storage's, so that an
  // outage (ECONNREFUSED, a reset, a timeout) reaches the client as
  // "object storage is unreachable", not as an unnamed or internal error.
  const fail = (e: unknown): never => {
    throw markOrigin(e, "object storage");
  };
  return {
    put: (key, body, size) => put(key, body, size).catch(fail),
    // A download can also fail after it started, when the server goes away mid-body.
    get: async (key, offset) => {
      const body = await get(key, offset).catch(fail);
      return body.prependListener("error", (e) => markOrigin(e, "object storage"));
    },
    stat: (key) => stat(key).catch(fail),
    startParts: (key) => parts.startParts(key).catch(fail),
    putPart: (target, part, body) => parts.putPart(target, part, body).catch(fail),
    completeParts: (target, done, size) => parts.completeParts(target, done, size).catch(fail),
    abortParts: (target) => parts.abortParts(target).catch(fail),
    listStarted: (prefix) => markErrors(parts.listStarted(prefix)),
    delete: (keys) => deleteKeys(keys).catch(fail),
    list: (prefix) => markErrors(list(prefix)),
  };
}

async function* markErrors<T>(items: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* items;
  } catch (e) {
    throw markOrigin(e, "object storage");
  }
}

/**
 * minio-js sets no timeout, so a server that stops answering (hung, or gone
 * without a reset) would hold a request forever. This transport ends a request
 * whose socket stays silent for `ms` (an idle timeout: a long transfer that
 * keeps moving is not cut). A paused download counts as silent too, so a
 * client that stops reading a download for that long loses it.
 */
function timingOut(transport: typeof http | typeof https, ms: number): Pick<typeof http, "request"> {
  // minio calls request(options, callback) only.
  const request = (options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
    const req = transport.request(options, callback);
    req.setTimeout(ms, () => {
      req.destroy(Object.assign(new Error(`object storage sent nothing for ${ms} ms`), { code: "ETIMEDOUT" }));
    });
    return req;
  };
  return { request: request as typeof http.request };
}

/** Cuts a byte stream into `partSize` buffers; the final one (flagged `last`) may be short or empty. */
async function* cutParts(body: Readable, partSize: number): AsyncGenerator<{ data: Buffer; last: boolean }> {
  let chunks: Buffer[] = [];
  let held = 0;
  for await (const c of body as AsyncIterable<Buffer | string>) {
    let chunk = typeof c === "string" ? Buffer.from(c) : c;
    while (held + chunk.length >= partSize) {
      const take = partSize - held;
      chunks.push(chunk.subarray(0, take));
      yield { data: Buffer.concat(chunks, partSize), last: false };
      chunks = [];
      held = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      chunks.push(chunk);
      held += chunk.length;
    }
  }
  yield { data: Buffer.concat(chunks, held), last: true };
}

// Same rules as the local store, so a key valid on one provider is valid on both.
function checkKey(key: string): string {
  if (key.split("/").some((p) => p === "" || p === "." || p === "..")) {
    throw new Error(`invalid object key ${JSON.stringify(key)}`);
  }
  return key;
}

// GET answers NoSuchKey; HEAD has no body, so minio derives NotFound from the 404.
const isNotFound = (e: unknown) => codeOf(e) === "NoSuchKey" || codeOf(e) === "NotFound";
