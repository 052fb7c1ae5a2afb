/** The wire form of artefacts, and the download stream dataset and run artefacts share. */
import { create } from "@bufbuild/protobuf";
import { type Artefact, ArtefactSchema } from "../../gen/traintrack/v1/dataset_pb.js";
import type { ArtefactView, OpenedArtefact } from "../services/artefacts.js";

/** Download messages carry at most this much, whatever chunk size the store yields. */
const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

export function toArtefact(a: ArtefactView): Artefact {
  return create(ArtefactSchema, { path: a.path, size: BigInt(a.size), sha256: a.sha256, mediaType: a.mediaType });
}

type DownloadPayload = { case: "artefact"; value: Artefact } | { case: "chunk"; value: Uint8Array };

/** The description first, then the bytes in chunks; the store's stream is closed however the client leaves. */
export async function* downloadMessages({ artefact, body }: OpenedArtefact): AsyncGenerator<{ payload: DownloadPayload }> {
  yield { payload: { case: "artefact", value: toArtefact(artefact) } };
  if (!body) return;
  try {
    for await (const data of body as AsyncIterable<Buffer>) {
      for (let at = 0; at < data.length; at += DOWNLOAD_CHUNK_BYTES) {
        yield { payload: { case: "chunk", value: data.subarray(at, at + DOWNLOAD_CHUNK_BYTES) } };
      }
    }
  } finally {
    body.destroy(); // the client may leave mid-download
  }
}
