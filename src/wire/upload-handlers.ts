import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { type Upload, UploadSchema, type UploadService, UploadState } from "../../gen/traintrack/v1/upload_pb.js";
import type { UploadRow } from "../db/schema.js";
import type { UploadService as Uploads } from "../services/uploads.js";
import { principalOf } from "./interceptors/auth.js";
import * as f from "./validate/fields.js";
import * as v from "./validate/uploads.js";

const STATES: Record<UploadRow["state"], UploadState> = {
  in_progress: UploadState.IN_PROGRESS,
  complete: UploadState.COMPLETE,
  committed: UploadState.COMMITTED,
  discarded: UploadState.DISCARDED,
};

function toUpload(row: UploadRow): Upload {
  return create(UploadSchema, {
    uploadId: row.id,
    fileName: row.fileName,
    mediaType: row.mediaType,
    state: STATES[row.state],
    bytesReceived: BigInt(row.bytesReceived),
    size: row.declaredSize === null ? undefined : BigInt(row.declaredSize),
    sha256: row.sha256 ?? "",
    createdAt: timestampFromDate(row.createdAt),
    expiresAt: timestampFromDate(row.expiresAt),
    discardReason: row.discardReason ?? "",
  });
}

export interface UploadHandlerOptions {
  maxChunkBytes: number;
  /** Told the size of every chunk received, for the metrics. */
  countBytes: (bytes: number) => void;
  /** Aborts (with an UnavailableError) when shutdown ends the streams still open. */
  shutdown: AbortSignal;
}

export function uploadHandlers(uploads: Uploads, opts: UploadHandlerOptions): ServiceImpl<typeof UploadService> {
  return {
    async upload(requests, ctx) {
      const { orgId } = principalOf(ctx);
      // The client going away or the server shutting down: either ends the stream at once and gives the
      // upload up, so that it resumes elsewhere (on shutdown the error names the upload and its offset).
      const ended = linkedSignal(ctx.signal, opts.shutdown);
      const { signal } = ended;
      try {
        const messages = requests[Symbol.asyncIterator]();
        const first = await uploads.firstMessage(messages.next(), signal);
        const start = v.uploadStart(first.done ? undefined : first.value);
        // Validates each message as it arrives: nothing is buffered, and a bad
        // chunk fails the upload from inside the service's read loop.
        async function* chunks() {
          for (let next = await messages.next(); !next.done; next = await messages.next()) {
            const chunk = v.uploadChunk(next.value, opts.maxChunkBytes);
            opts.countBytes(chunk.length);
            yield chunk;
          }
        }
        return { upload: toUpload(await uploads.receive(orgId, start, chunks(), signal)) };
      } finally {
        ended.close();
      }
    },
    async createUpload(req, ctx) {
      return { upload: toUpload(await uploads.create(principalOf(ctx).orgId, v.newUpload("upload", req.upload))) };
    },
    async getUpload(req, ctx) {
      return { upload: toUpload(await uploads.get(principalOf(ctx).orgId, f.id("upload_id", req.uploadId))) };
    },
    async abortUpload(req, ctx) {
      return { upload: toUpload(await uploads.abort(principalOf(ctx).orgId, f.id("upload_id", req.uploadId))) };
    },
  };
}

/**
 * A signal that aborts with the reason of whichever of `a` and `b` aborts
 * first, until `close`. Not AbortSignal.any: per call (thousands a second with
 * small files) it costs more, and ties every call's signal to the long-lived
 * shutdown signal through weak references the garbage collector must clear.
 */
function linkedSignal(a: AbortSignal, b: AbortSignal): { signal: AbortSignal; close: () => void } {
  const controller = new AbortController();
  const close = () => {
    a.removeEventListener("abort", onA);
    b.removeEventListener("abort", onB);
  };
  const onA = () => (close(), controller.abort(a.reason));
  const onB = () => (close(), controller.abort(b.reason));
  if (a.aborted) onA();
  else if (b.aborted) onB();
  else {
    a.addEventListener("abort", onA, { once: true });
    b.addEventListener("abort", onB, { once: true });
  }
  return { signal: controller.signal, close };
}
