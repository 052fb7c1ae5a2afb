/**
 * Parts sent as they arrive. S3 checks a part against a CRC32 it is given,
 * and a checksum sent as a header must be known before the body starts: the
 * whole part (a segment, 8 MiB) had to wait in memory until its last byte
 * was in, for every upload at once. In aws-chunked encoding the checksum
 * comes last, as a trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER), so the
 * bytes go to S3 as they come and the store still verifies every one.
 * minio-js cannot send such a request (it signs every payload as
 * UNSIGNED-PAYLOAD); this client adds the one that can.
 */
import type http from "node:http";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { Client } from "minio";
import { signV4 } from "minio/dist/esm/signing.mjs";

const PAYLOAD = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/** Bytes per aws-chunked chunk (the store's pieces are framed, never copied). */
const CHUNK = 1024 * 1024;
const CRLF = Buffer.from("\r\n");
const TRAILER_NAME = "x-amz-checksum-crc32";

export interface StreamedRequest {
  method: string;
  bucketName: string;
  objectName: string;
  query: string;
  /** Bytes the body carries; a body that carries more or fewer fails the request. */
  size: number;
  /** Names the object in errors. */
  what: string;
}

export class StreamingClient extends Client {
  /**
   * Sends `body` as `request`, signed, in aws-chunked encoding with its CRC32
   * as a trailer. Resolves with the response when its status is 200; else
   * throws an Error whose `code` is S3's (NoSuchUpload, …).
   */
  async sendStreamed(request: StreamedRequest, region: string, body: AsyncIterable<Uint8Array | string>): Promise<http.IncomingMessage> {
    const date = new Date();
    const options = this.getRequestOptions({ method: request.method, bucketName: request.bucketName, objectName: request.objectName, query: request.query, region });
    Object.assign(options.headers, {
      "content-length": String(encodedLength(request.size)),
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(request.size),
      "x-amz-trailer": TRAILER_NAME,
      "x-amz-date": date.toISOString().replace(/[-:]|\.\d{3}/g, ""),
      "x-amz-content-sha256": PAYLOAD,
    });
    options.headers.authorization = signV4(options, this.accessKey, this.secretKey, region, date, PAYLOAD);
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = this.transport.request(options, resolve);
      req.on("error", reject);
      pipeline(awsChunked(body, request.size, request.what), req).catch((error: unknown) => {
        req.destroy(error instanceof Error ? error : new Error(String(error)));
        reject(error);
      });
    });
    if (response.statusCode === 200) return response;
    let text = "";
    for await (const piece of response) text += String(piece);
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
    throw Object.assign(new Error(`${request.what}: ${message ?? `object storage answered ${response.statusCode}`}`), { code: code ?? String(response.statusCode) });
  }
}

/** The encoded length of `size` bytes: each chunk's hex size line, bytes and CRLF, then the last chunk and the trailer. */
export function encodedLength(size: number): number {
  let length = 0;
  for (let left = size; left > 0; left -= CHUNK) {
    const n = Math.min(CHUNK, left);
    length += n.toString(16).length + 2 + n + 2;
  }
  return length + "0\r\n".length + `${TRAILER_NAME}:`.length + 8 + 2 + 2;
}

/** `body` framed as aws-chunked chunks of CHUNK bytes (views of its pieces, not copies), then the CRC32 trailer. */
export async function* awsChunked(body: AsyncIterable<Uint8Array | string>, size: number, what: string): AsyncGenerator<Uint8Array> {
  let sent = 0;
  let left = 0;
  let crc = 0;
  for await (const item of body) {
    let piece = typeof item === "string" ? Buffer.from(item) : item;
    if (sent + piece.length > size) throw new Error(`${what}: ${size} bytes were declared but the body carried more`);
    while (piece.length > 0) {
      if (left === 0) {
        if (sent > 0) yield CRLF;
        left = Math.min(CHUNK, size - sent);
        yield Buffer.from(`${left.toString(16)}\r\n`);
      }
      const out = piece.subarray(0, Math.min(left, piece.length));
      crc = zlib.crc32(out, crc);
      yield out;
      sent += out.length;
      left -= out.length;
      piece = piece.subarray(out.length);
    }
  }
  if (sent !== size) throw new Error(`${what}: ${size} bytes were declared but the body carried ${sent}`);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc >>> 0);
  yield Buffer.from(`${sent > 0 ? "\r\n" : ""}0\r\n${TRAILER_NAME}:${checksum.toString("base64")}\r\n\r\n`);
}
