import { Readable } from "node:stream";
import zlib from "node:zlib";
import type { StreamingClient } from "./s3-streaming.js";
import { ObjectNotFoundError, PartsMismatchError } from "./object-store.js";
import type { ObjectStore } from "./object-store.js";

const MAX_PARTS = 10_000;

type PartsMethods = Pick<ObjectStore, "startParts" | "putPart" | "completeParts" | "abortParts" | "listStarted">;

interface S3PartsDeps {
  client: StreamingClient;
  /** Signs the requests this module makes itself. */
  region: string;
  bucket: string;
  /** The store's key prefix ("" or ending in "/"). */
  base: string;
  /** A key's object name in the bucket (base + key), validating the key. */
  objectName(key: string): string;
  stat: ObjectStore["stat"];
}

/**
 * Objects written in parts, as S3 multipart uploads: the handle is the upload
 * id, so any process can add parts to, complete or abort an upload another
 * one started. A failed part never aborts the upload: the caller re-sends it.
 */
export function createS3Parts({ client, region, bucket, base, objectName, stat }: S3PartsDeps): PartsMethods {
  // minio puts the upload id into query strings as given (except in
  // completeMultipartUpload, which escapes it): ids may hold "+", "/" or "=".
  const uploadQuery = (handle: string) => `uploadId=${encodeURIComponent(handle)}`;

  const startParts = (key: string) => client.initiateNewMultipartUpload(bucket, objectName(key), {});

  const putPart: PartsMethods["putPart"] = async (target, part, body) => {
    const name = objectName(target.key);
    const { partNumber } = part;
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new RangeError(`part number ${partNumber} of ${target.key} is not between 1 and ${MAX_PARTS}`);
    }
    const what = `${target.key} part ${partNumber}`;
    const query = `partNumber=${partNumber}&${uploadQuery(target.handle)}`;
    try {
      const res = part.size === undefined ? await sendWhole(name, query, what, body) : await client.sendStreamed({ method: "PUT", bucketName: bucket, objectName: name, query, size: part.size, what }, region, body);
      res.resume();
      const etag = res.headers.etag;
      if (!etag) throw new Error(`object storage stored part ${partNumber} of ${target.key} but sent no ETag`);
      // Unquoted, as minio's uploadPart returns it and completeMultipartUpload takes it.
      return etag.replace(/^"|"$/g, "");
    } catch (e) {
      if (codeOf(e) === "NoSuchUpload") throw new ObjectNotFoundError(target.key);
      throw e;
    }
  };

  // A part whose size is unknown until its body ends (an upload of undeclared size) is
  // collected first, for its CRC32 header. Not minio's uploadPart: it wants one Buffer
  // (a copy of the chunks) and signs nothing we need.
  async function sendWhole(name: string, query: string, what: string, body: Readable) {
    const { chunks, filled, crc } = await takeBody(what, body);
    const headers = { "content-length": String(filled), ...checksumHeaders(crc) };
    return client.makeRequestStreamAsync({ method: "PUT", bucketName: bucket, objectName: name, query, headers }, Readable.from(chunks), "", [200], "");
  }

  const completeParts: PartsMethods["completeParts"] = async (target, parts, size) => {
    const name = objectName(target.key);
    if (parts.length === 0) return completeEmpty(target.key, name, target.handle, size);
    try {
      const etags = parts.map((p) => ({ part: p.partNumber, etag: p.etag }));
      await client.completeMultipartUpload(bucket, name, target.handle, etags);
    } catch (e) {
      const code = codeOf(e);
      if (code === "NoSuchUpload") return completedBefore(target.key, size);
      // InvalidPart: a part is missing or its etag is not the stored one (another writer replaced it).
      if (code === "InvalidPart" || code === "InvalidPartOrder") {
        throw new PartsMismatchError(target.key, `${code} (${parts.length} parts given)`);
      }
      throw e;
    }
  };

  // S3 cannot complete a multipart upload without parts ("You must specify at
  // least one part"), so an empty object is put at the key and the upload is
  // aborted, in that order: a retry after a crash in between finds the upload
  // still there and does both again. The upload is checked first so that a
  // completion after an abort fails as the contract says.
  async function completeEmpty(key: string, name: string, handle: string, size: number): Promise<void> {
    if (size !== 0) throw new PartsMismatchError(key, `no parts were given for ${size} bytes`);
    try {
      const res = await client.makeRequestAsync({ method: "GET", bucketName: bucket, objectName: name, query: `${uploadQuery(handle)}&max-parts=1` }, "", [200]);
      res.resume();
    } catch (e) {
      if (codeOf(e) === "NoSuchUpload") return completedBefore(key, size);
      throw e;
    }
    const res = await client.makeRequestAsync({ method: "PUT", bucketName: bucket, objectName: name, headers: checksumHeaders(0) }, "", [200]);
    res.resume();
    await abortUpload(name, handle);
  }

  // The upload is gone: completed before (a retry of a completion whose answer
  // was lost) when the key holds the object, else aborted or never started.
  async function completedBefore(key: string, size: number): Promise<void> {
    if ((await stat(key))?.size !== size) throw new ObjectNotFoundError(key);
  }

  async function abortUpload(name: string, handle: string): Promise<void> {
    await client.abortMultipartUpload(bucket, name, encodeURIComponent(handle)).catch((e: unknown) => {
      if (codeOf(e) !== "NoSuchUpload") throw e;
    });
  }

  const abortParts: PartsMethods["abortParts"] = (target) => abortUpload(objectName(target.key), target.handle);

  // MinIO lists the uploads of one exact object name, or of the whole bucket
  // when the prefix is empty, but none for any other prefix: so the whole
  // bucket is listed and filtered here. Not minio's listIncompleteUploads: it
  // sends one ListParts request per upload to add up sizes nobody needs here.
  async function* listStarted(prefix: string): AsyncIterable<{ key: string; handle: string; startedAt: Date }> {
    const cut = prefix.lastIndexOf("/");
    if (cut >= 0) objectName(prefix.slice(0, cut)); // validates
    const wanted = base + prefix;
    let keyMarker = "";
    let uploadIdMarker = "";
    for (;;) {
      const page = await client.listIncompleteUploadsQuery(bucket, "", keyMarker, uploadIdMarker, "");
      for (const u of page.uploads) {
        if (u.key.startsWith(wanted)) yield { key: u.key.slice(base.length), handle: u.uploadId, startedAt: u.initiated };
      }
      const last = page.uploads.at(-1);
      if (!page.isTruncated || last === undefined) return;
      // The markers of the next page are the last upload of this one. (minio's
      // parser never fills nextUploadIdMarker, and a key marker alone would
      // skip the other uploads of that key.)
      keyMarker = last.key;
      uploadIdMarker = encodeURIComponent(last.uploadId);
    }
  }

  return { startParts, putPart, completeParts, abortParts, listStarted };
}

/**
 * Reads a body of at most `size` bytes (exactly, when given), keeping its
 * chunks as they arrive (no copy into one buffer) with their CRC32.
 * @throws Error when the body carries more or fewer bytes than declared: nothing was sent.
 */
export async function takeBody(what: string, body: Readable, size?: number): Promise<{ chunks: Uint8Array[]; filled: number; crc: number }> {
  const chunks: Uint8Array[] = [];
  let filled = 0;
  let crc = 0;
  for await (const c of body as AsyncIterable<Uint8Array | string>) {
    const chunk = typeof c === "string" ? Buffer.from(c) : c;
    if (size !== undefined && filled + chunk.length > size) throw new Error(`object ${what}: ${size} bytes were declared but the body carried more`);
    chunks.push(chunk);
    crc = zlib.crc32(chunk, crc);
    filled += chunk.length;
  }
  if (size !== undefined && filled !== size) throw new Error(`object ${what}: ${size} bytes were declared but the body carried ${filled}`);
  return { chunks, filled, crc };
}

/** A body's CRC32 as a header, which S3 (and MinIO) check before storing it: bytes damaged on the way are refused. */
export function checksumHeaders(crc32: number): Record<string, string> {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32 >>> 0);
  return { "x-amz-checksum-crc32": crc.toString("base64") };
}

export function codeOf(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String(e.code) : undefined;
}
