/** The wire form of artefacts, and the download stream dataset and run artefacts share. */
import { create } from "@bufbuild/protobuf";
import { type Artefact, ArtefactSchema } from "../../gen/traintrack/v1/dataset_pb.js";
import type { ArtefactView, ByteRange, OpenedArtefact } from "../services/artefacts.js";
import { PLACEHOLDER_CHUNK, type RawChunkQueue } from "./raw-chunks.js";
import * as f from "./validate/fields.js";

/**
 * Download messages carry this much (the last one less), whatever piece size
 * the store yields (64 KiB from files, anything from S3): per-message costs
 * (envelope, serialisation, a Python loop turn in the SDK) are paid once per
 * MiB, and a message still fits every client's default 4 MiB receive limit.
 */
export const DOWNLOAD_MESSAGE_BYTES = 1024 * 1024;

export function toArtefact(a: ArtefactView): Artefact {
  return create(ArtefactSchema, { path: a.path, size: BigInt(a.size), sha256: a.sha256, mediaType: a.mediaType });
}

/** The validated range of a download request (`offset`, optional `length`). */
export function byteRange(req: { offset: bigint; length?: bigint | undefined }): ByteRange {
  return { offset: f.count("offset", req.offset), length: req.length === undefined ? undefined : f.count("length", req.length) };
}

type DownloadPayload = { case: "artefact"; value: Artefact } | { case: "chunk"; value: Uint8Array };

/**
 * The description first, then the bytes in ~1 MiB chunks; the store's stream
 * is closed however the client leaves. With a `raw` queue, each chunk's
 * pieces go to the queue uncopied and a placeholder is yielded in its place
 * (raw-chunks.ts); without, each chunk is one message (pieces joined).
 */
export async function* downloadMessages({ artefact, body }: OpenedArtefact, raw: RawChunkQueue | undefined): AsyncGenerator<{ payload: DownloadPayload }> {
  yield { payload: { case: "artefact", value: toArtefact(artefact) } };
  if (!body) return;
  try {
    for await (const pieces of chunkGroups(body as AsyncIterable<Buffer>, DOWNLOAD_MESSAGE_BYTES)) {
      if (raw) raw.push(pieces);
      yield { payload: { case: "chunk", value: raw ? PLACEHOLDER_CHUNK : join(pieces) } };
    }
  } finally {
    body.destroy(); // the client may leave mid-download
  }
}

const join = (pieces: Buffer[]): Buffer => (pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces));

/**
 * `pieces` regrouped so that each group holds exactly `size` bytes (the last
 * one fewer, none empty), as views of the pieces: nothing is copied. Pieces
 * must not be reused by their producer after being yielded (true of Node's fs
 * and http streams, which allocate each chunk).
 */
export async function* chunkGroups(pieces: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer[]> {
  let held: Buffer[] = [];
  let heldBytes = 0;
  for await (const piece of pieces) {
    let at = 0;
    while (at < piece.length) {
      const take = Math.min(size - heldBytes, piece.length - at);
      held.push(take === piece.length ? piece : piece.subarray(at, at + take));
      heldBytes += take;
      at += take;
      if (heldBytes === size) {
        yield held;
        held = [];
        heldBytes = 0;
      }
    }
  }
  if (heldBytes > 0) yield held;
}
