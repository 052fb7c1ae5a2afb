/**
 * The TypeScript client side of the benchmarks: generated clients over the
 * gRPC transport, artefact bytes generated on the fly from a reused random
 * pool (never a whole artefact in memory), and a bounded-concurrency loop.
 */
import { randomBytes } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DatasetService } from "../gen/traintrack/v1/dataset_pb.js";
import { type UploadRequestSchema, UploadService } from "../gen/traintrack/v1/upload_pb.js";

export interface Clients {
  uploads: Client<typeof UploadService>;
  datasets: Client<typeof DatasetService>;
  /** The authenticated connection, for clients of other services. */
  transport: Transport;
}

/**
 * Clients sharing one HTTP/2 connection, authenticated with `apiKey`. Every
 * call is cancelled when `gone` aborts (the server exited): a client stream
 * blocked on flow control to a dead server otherwise never settles.
 */
export function connect(server: { baseUrl: string; apiKey: string; gone: AbortSignal }): Clients {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${server.apiKey}`);
    return next({ ...req, signal: AbortSignal.any([req.signal, server.gone]) });
  };
  const transport = createGrpcTransport({ baseUrl: server.baseUrl, interceptors: [auth] });
  return { uploads: createClient(UploadService, transport), datasets: createClient(DatasetService, transport), transport };
}

const POOL_BYTES = 8 * 1024 * 1024;

/**
 * Random bytes reused for every artefact. Successive chunks start at
 * different offsets in the pool, so no two chunks of an upload are identical
 * (nothing downstream can shortcut repeated blocks).
 */
export class Payload {
  readonly #pool = randomBytes(POOL_BYTES);

  /** `size` bytes as chunks of `chunkBytes` (views into the pool: no allocation per chunk). */
  *chunks(size: number, chunkBytes: number): Generator<Buffer> {
    if (chunkBytes > POOL_BYTES / 2) throw new RangeError(`chunks of at most ${POOL_BYTES / 2} bytes`);
    let offset = 0;
    for (let sent = 0, i = 0; sent < size; i++) {
      const n = Math.min(chunkBytes, size - sent);
      offset = (offset + 4099 * (i + 1)) % (POOL_BYTES - n);
      yield this.#pool.subarray(offset, offset + n);
      sent += n;
    }
  }

  /** A small artefact whose content is distinct for every `index` (it is written into the first bytes). */
  small(size: number, index: number): Buffer {
    const start = (index * 7919) % (POOL_BYTES - size);
    const bytes = Buffer.from(this.#pool.subarray(start, start + size));
    bytes.write(`artefact ${index}\n`, 0, "utf8");
    return bytes;
  }
}

export interface Uploaded {
  uploadId: string;
  sha256: string;
}

/** Uploads `size` bytes from `chunks` as one new upload with a declared size. */
export async function upload(client: Client<typeof UploadService>, fileName: string, size: number, chunks: Iterable<Uint8Array>): Promise<Uploaded> {
  async function* requests(): AsyncGenerator<MessageInitShape<typeof UploadRequestSchema>> {
    yield {
      payload: {
        case: "header",
        value: { start: { case: "newUpload", value: { fileName, mediaType: "application/octet-stream", size: BigInt(size) } } },
      },
    };
    for (const chunk of chunks) yield { payload: { case: "chunk", value: chunk } };
  }
  const res = await client.upload(requests());
  if (!res.upload) throw new Error(`Upload of ${fileName} returned no upload`);
  return { uploadId: res.upload.uploadId, sha256: res.upload.sha256 };
}

/** Runs `fn` over 0..count-1 with at most `limit` in flight; the first failure rejects once all have stopped. */
export async function forEachConcurrent(count: number, limit: number, fn: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (next < count && !failed) {
      const index = next++;
      try {
        await fn(index);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failed) throw failed.error;
}

/** Milliseconds since `start` (from performance.now()). */
export const since = (start: number) => performance.now() - start;
