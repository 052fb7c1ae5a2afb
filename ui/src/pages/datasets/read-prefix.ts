/**
 * The first bytes of an artefact, through DownloadArtefact (a server stream,
 * which connect-web reads over fetch): the request's `length` asks the server
 * for no more than a preview needs, and the stream is cancelled as soon as
 * that much has arrived, whatever the server sends.
 */
import { createClient, type Transport } from "@connectrpc/connect";
import { DatasetService } from "@gen/traintrack/v1/dataset_pb.js";

/** What a preview of text reads at most. */
export const PREVIEW_BYTES = 64 * 1024;

export interface Prefix {
  bytes: Uint8Array;
  /** The file's size, as the stream's first message says. */
  size: bigint;
  /** Whether `bytes` reach the end of the file (from offset 0: are the whole file). */
  complete: boolean;
}

export function readPrefix(transport: Transport, ref: ArtefactRef, maxBytes: number, signal: AbortSignal): Promise<Prefix> {
  return readRange(transport, ref, 0, maxBytes, signal);
}

type ArtefactRef = { name: string; version: string; path: string };

/** Up to `maxBytes` from `offset`; `complete`: they reach the file's end. */
export async function readRange(transport: Transport, ref: ArtefactRef, offset: number, maxBytes: number, signal: AbortSignal): Promise<Prefix> {
  const client = createClient(DatasetService, transport);
  // Our own controller, so that the stream stops once enough is read (and when the caller's signal fires).
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener("abort", onAbort);
  const parts: Uint8Array[] = [];
  let got = 0;
  let size = -1n;
  try {
    const stream = client.downloadArtefact(
      { dataset: { name: ref.name, version: ref.version }, path: ref.path, offset: BigInt(offset), length: BigInt(maxBytes) },
      { signal: stop.signal },
    );
    for await (const message of stream) {
      if (message.payload.case === "artefact") size = message.payload.value.size;
      else if (message.payload.case === "chunk") {
        const chunk = message.payload.value.subarray(0, maxBytes - got);
        parts.push(chunk);
        got += chunk.length;
        if (got >= maxBytes) break; // leaving the loop cancels the stream
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    stop.abort();
  }
  const bytes = new Uint8Array(got);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, size, complete: BigInt(offset + got) >= size };
}
