/** Validation of UploadService requests: proto in, domain input out, InvalidInputError otherwise. */
import type { NewUpload as ProtoNewUpload, UploadHeader, UploadRequest } from "../../../gen/traintrack/v1/upload_pb.js";
import { InvalidInputError } from "../../services/errors.js";
import type { NewUpload, UploadStart } from "../../services/uploads.js";
import * as f from "./fields.js";

export function uploadStart(message: UploadRequest | undefined): UploadStart {
  if (message === undefined) throw new InvalidInputError("header", "the Upload stream is empty: send a header message first");
  if (message.payload.case !== "header") {
    throw new InvalidInputError("header", "the first message of an Upload stream must be a header (new_upload or resume), not a chunk");
  }
  return fromHeader(message.payload.value);
}

/** A new upload's description, from a header or a CreateUpload; `field` prefixes the names in errors. */
export function newUpload(field: string, value: ProtoNewUpload | undefined): NewUpload {
  if (!value) throw new InvalidInputError(field, `${field} is required`);
  return {
    fileName: f.fileName(`${field}.file_name`, value.fileName),
    mediaType: f.mediaType(`${field}.media_type`, value.mediaType),
    size: value.size === undefined ? undefined : f.count(`${field}.size`, value.size),
    sha256: f.optionalSha256(`${field}.sha256`, value.sha256),
  };
}

function fromHeader(header: UploadHeader): UploadStart {
  const start = header.start;
  switch (start.case) {
    case "newUpload":
      return { kind: "new", ...newUpload("header.new_upload", start.value) };
    case "resume":
      return {
        kind: "resume",
        uploadId: f.id("header.resume.upload_id", start.value.uploadId),
        offset: f.count("header.resume.offset", start.value.offset),
      };
    default:
      throw new InvalidInputError("header", "the header must set new_upload or resume");
  }
}

/** Every message after the header: a non-empty chunk within the server's limit. */
export function uploadChunk(message: UploadRequest, maxChunkBytes: number): Uint8Array {
  const payload = message.payload;
  if (payload.case === "header") {
    throw new InvalidInputError("header", "a second header arrived mid-stream; send the header once, as the first message");
  }
  if (payload.case !== "chunk" || payload.value.length === 0) {
    throw new InvalidInputError("chunk", "an empty chunk arrived; every message after the header must carry bytes");
  }
  if (payload.value.length > maxChunkBytes) {
    throw new InvalidInputError("chunk", `a chunk of ${payload.value.length} bytes exceeds the server's limit of ${maxChunkBytes}; send smaller chunks`);
  }
  return payload.value;
}
