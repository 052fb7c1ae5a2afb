/** Test data and client-side helpers shared by the integration suites. */
import { createHash } from "node:crypto";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { Kysely } from "kysely";
import type { Database } from "../../src/db/schema.js";
import type { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Upload, UploadRequestSchema, UploadService } from "../../gen/traintrack/v1/upload_pb.js";

/** Deterministic pseudo-random bytes, so a failure is reproducible without storing fixtures. */
export function bytesOf(size: number, seed: number): Buffer {
  const out = Buffer.alloc(Math.ceil(size / 4) * 4);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < out.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  return out.subarray(0, size);
}

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

type UploadInit = MessageInitShape<typeof UploadRequestSchema>;

/** The messages of an Upload stream: a new-upload header, then `data` in chunks. */
export async function* uploadMessages(
  fileName: string,
  data: Uint8Array,
  opts: { chunkBytes?: number; declareSize?: boolean; sha256?: string; mediaType?: string } = {},
): AsyncGenerator<UploadInit> {
  const chunkBytes = opts.chunkBytes ?? 1024 * 1024;
  yield {
    payload: {
      case: "header",
      value: {
        start: {
          case: "newUpload",
          value: {
            fileName,
            mediaType: opts.mediaType ?? "application/octet-stream",
            size: opts.declareSize === false ? undefined : BigInt(data.length),
            sha256: opts.sha256 ?? "",
          },
        },
      },
    },
  };
  for (let at = 0; at < data.length; at += chunkBytes) {
    yield { payload: { case: "chunk", value: data.subarray(at, at + chunkBytes) } };
  }
}

/** Uploads `data` whole and returns the completed upload. */
export async function upload(client: Client<typeof UploadService>, fileName: string, data: Uint8Array): Promise<Upload> {
  const res = await client.upload(uploadMessages(fileName, data));
  if (!res.upload) throw new Error("Upload returned no upload");
  return res.upload;
}

/** Downloads an artefact whole (test artefacts are small) and returns its description and bytes. */
export async function download(client: Client<typeof DatasetService>, name: string, version: string, path: string, offset = 0n) {
  const parts: Buffer[] = [];
  let sha = "";
  let size = -1n;
  for await (const message of client.downloadArtefact({ dataset: { name, version }, path, offset })) {
    if (message.payload.case === "artefact") {
      sha = message.payload.value.sha256;
      size = message.payload.value.size;
    } else if (message.payload.case === "chunk") {
      parts.push(Buffer.from(message.payload.value));
    }
  }
  return { sha256: sha, size, bytes: Buffer.concat(parts) };
}

/**
 * Streams `data` (declaring its full size) but sends only `sendBytes`, waits
 * until `durableBytes` are durably staged according to `db`, then drops the
 * connection, as a client whose network broke would. Returns the upload id.
 */
export async function breakUpload(
  client: Client<typeof UploadService>,
  db: Kysely<Database>,
  fileName: string,
  data: Uint8Array,
  sendBytes: number,
  durableBytes: number,
): Promise<string> {
  const abort = new AbortController();
  let uploadId = "";
  async function* messages() {
    let sent = 0;
    for await (const message of uploadMessages(fileName, data)) {
      if (message.payload?.case === "chunk") sent += message.payload.value.length;
      if (sent > sendBytes) break;
      yield message;
    }
    for (;;) {
      const row = await db.selectFrom("uploads").select(["id", "bytesReceived"]).where("fileName", "=", fileName).executeTakeFirst();
      if (row && row.bytesReceived >= durableBytes) {
        uploadId = row.id;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    abort.abort();
  }
  const error = await client.upload(messages(), { signal: abort.signal }).then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  if (error?.code !== Code.Canceled) throw new Error(`expected the broken stream to end Canceled, got ${String(error)}`);
  return uploadId;
}

/**
 * Resumes an upload at `offset` with the rest of `data`. Retries while the
 * broken stream's write lease is still held (ABORTED): the server releases it
 * as it notices the break, and the SDK retries the same way.
 */
export async function resumeUpload(client: Client<typeof UploadService>, uploadId: string, offset: bigint, data: Uint8Array): Promise<Upload> {
  async function* messages() {
    yield { payload: { case: "header" as const, value: { start: { case: "resume" as const, value: { uploadId, offset } } } } };
    for (let at = Number(offset); at < data.length; at += 1024 * 1024) {
      yield { payload: { case: "chunk" as const, value: data.subarray(at, Math.min(at + 1024 * 1024, data.length)) } };
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const { upload } = await client.upload(messages());
      if (!upload) throw new Error("Upload returned no upload");
      return upload;
    } catch (error) {
      if (ConnectError.from(error).code !== Code.Aborted || attempt > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The code a call ended with, by name ("Unavailable", "Aborted" …), or "OK". */
export async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (error) {
    return Code[ConnectError.from(error).code];
  }
}
