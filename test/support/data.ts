/** Test data and client-side helpers shared by the integration suites. */
import { createHash } from "node:crypto";
import type { Client } from "@connectrpc/connect";
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
