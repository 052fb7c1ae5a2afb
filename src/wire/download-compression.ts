/**
 * Downloads are sent uncompressed unless the request asks (`compress: true`).
 *
 * Connect-es picks a response's compression from the request's accept headers
 * before the handler reads the request, and connect-node clients offer gzip by
 * default: left alone, every download would be gzipped at a quarter of the
 * speed, mostly for bytes that do not shrink. So the download methods are
 * served twice, by a router that compresses as the headers allow and by one
 * that never compresses, and this module picks one per call from the request
 * message, read ahead of the handler (a download request is one small message).
 */
import { type DescMethod, fromBinary, fromJsonString } from "@bufbuild/protobuf";
import type { UniversalServerRequest } from "@connectrpc/connect/protocol";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";

/** Methods whose responses are compressed only when their request says `compress: true`. */
export const optInCompressionMethods: readonly DescMethod[] = [
  DatasetService.method.downloadArtefact,
  RunArtefactService.method.downloadRunArtefact,
  ModelService.method.downloadModelFile,
];

/** Formats that are compressed already (or noise): compressing them costs CPU and saves nothing. */
const COMPRESSED_EXTENSIONS = new Set([
  "parquet", "gz", "tgz", "zip", "zst", "zstd", "bz2", "xz", "lz4", "br", "7z", "npz",
  "png", "jpg", "jpeg", "gif", "webp", "avif", "mp3", "mp4", "safetensors",
]);

/** Whether compressing an artefact at `path` can pay, judged by its extension. */
export function compressible(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot < 0 || !COMPRESSED_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

/** A request message is read ahead only up to this size; larger ones (none are legitimate) are not compressed. */
const PEEK_MAX_BYTES = 64 * 1024;

/**
 * Whether `req` (a call of `method`) asks for a compressed response of a
 * compressible artefact. Reads the first enveloped message of the body and
 * puts it back, so the handler sees the body unchanged. Anything it cannot read
 * (gRPC-Web text, a malformed request) counts as not asking; the handler then
 * reports what is wrong with the request as usual. A compressed request goes
 * to the compressing router, the only one that can read it.
 */
export async function asksForCompression(req: UniversalServerRequest, method: DescMethod): Promise<boolean> {
  const format = /^application\/(?:grpc|grpc-web|connect)(?:\+(proto|json))?$/.exec(req.header.get("content-type") ?? "");
  const body = req.body;
  if (!format || typeof body !== "object" || body === null || !(Symbol.asyncIterator in body)) return false;
  const source = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const read: Uint8Array[] = [];
  let readBytes = 0;
  let ended = false;
  const message = (): Buffer | undefined => {
    const head = Buffer.concat(read, readBytes);
    if (head.length < 5) return undefined;
    const length = head.readUInt32BE(1);
    return head.length >= 5 + length ? head : undefined;
  };
  let failure: { error: unknown } | undefined;
  try {
    while (!ended && readBytes <= PEEK_MAX_BYTES && !message()) {
      const next = await source.next();
      if (next.done) ended = true;
      else (read.push(next.value), (readBytes += next.value.byteLength));
    }
  } catch (error) {
    failure = { error }; // the client went away: the handler meets the same error where it reads the body
  }
  req.body = (async function* () {
    yield* read;
    if (failure) throw failure.error;
    if (!ended) yield* { [Symbol.asyncIterator]: () => source };
  })();
  if (failure) return false;
  const envelope = message();
  if (!envelope) return false;
  // Bit 0: the client compressed its request; only the compressing router can read it.
  if ((envelope[0] ?? 0) & 1) return true;
  const data = envelope.subarray(5, 5 + envelope.readUInt32BE(1));
  try {
    const request = format[1] === "json" ? fromJsonString(method.input, data.toString("utf8")) : fromBinary(method.input, data);
    const { compress, path } = request as { compress?: unknown; path?: unknown };
    return compress === true && typeof path === "string" && compressible(path);
  } catch {
    return false;
  }
}
