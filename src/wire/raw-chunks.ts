/**
 * Download chunks written to the wire without being copied.
 *
 * Through Connect, every 1 MiB chunk would be copied twice on its way out
 * (protobuf-es's BinaryWriter joins the message, then the envelope is
 * allocated around it), and once more before that when the store yields
 * smaller pieces: most of the server's work in a download was allocating
 * and collecting those copies. Yet a DownloadArtefactResponse holding only a
 * chunk is a fixed prefix (field 2, length-delimited: tag 0x12 and a varint
 * length) followed by the bytes, so its envelope can be written as a small
 * header and the store's pieces as they are.
 *
 * Connect keeps everything else (protocol, headers, errors, trailers,
 * interceptors): the handler hands each chunk's pieces to a `RawChunkQueue`
 * and yields a placeholder, a chunk message with no bytes; `spliceRawChunks`,
 * on the enveloped response body, puts each placeholder's pieces in its
 * place. The queue is set only for binary-protobuf calls that are not
 * compressed (node-handler.ts); anywhere else (JSON, gRPC-Web text, a
 * compressed response, an in-memory transport) chunks go through Connect as
 * ordinary messages.
 */
import { createContextKey } from "@connectrpc/connect";

/** The chunks a download handler handed over, in the order of its placeholders. */
export class RawChunkQueue {
  readonly #chunks: Buffer[][] = [];

  /** Queues one chunk (`pieces`, in order, not to be reused by their producer); its placeholder must be yielded next. */
  push(pieces: Buffer[]): void {
    this.#chunks.push(pieces);
  }

  shift(): Buffer[] | undefined {
    return this.#chunks.shift();
  }

  get size(): number {
    return this.#chunks.length;
  }
}

/** Set by the node handler when the call's response may carry raw chunks. */
export const rawChunksKey = createContextKey<RawChunkQueue | undefined>(undefined, { description: "raw download chunks" });

/** The bytes of a chunk message yielded as a placeholder. */
export const PLACEHOLDER_CHUNK = new Uint8Array(0);

/** Response content types whose messages are binary protobuf in plain envelopes (not JSON, not base64 text). */
const RAW_CONTENT_TYPE = /^application\/(?:grpc|grpc-web|connect)(?:\+proto)?$/;

/** Whether a request with this content type gets binary-protobuf envelopes back, which raw chunks can join. */
export function carriesRawChunks(contentType: string | null): boolean {
  return RAW_CONTENT_TYPE.test(contentType ?? "");
}

/** Field 2 (chunk), wire type 2 (length-delimited). */
const CHUNK_TAG = 0x12;
/** A placeholder as Connect envelopes it: flags 0, length 2, then tag 0x12 and length 0. */
const PLACEHOLDER_ENVELOPE = Uint8Array.of(0, 0, 0, 0, 2, CHUNK_TAG, 0);

function isPlaceholder(item: Uint8Array): boolean {
  if (item.byteLength !== PLACEHOLDER_ENVELOPE.length) return false;
  for (let i = 0; i < item.byteLength; i++) if (item[i] !== PLACEHOLDER_ENVELOPE[i]) return false;
  return true;
}

/** The envelope header and message prefix of a chunk of `bytes`: what goes before its pieces on the wire. */
export function chunkEnvelopeHeader(bytes: number): Buffer {
  const varint: number[] = [];
  for (let v = bytes; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      varint.push(v);
      break;
    }
    varint.push((v % 128) | 128);
  }
  const header = Buffer.allocUnsafe(5 + 1 + varint.length);
  header[0] = 0; // flags: not compressed, not the end of the stream
  header.writeUInt32BE(1 + varint.length + bytes, 1);
  header[5] = CHUNK_TAG;
  header.set(varint, 6);
  return header;
}

/**
 * The enveloped response `body` with every placeholder replaced by its
 * chunk: the header, then the pieces as they are. Anything else (the
 * description, an error, trailers) passes through.
 */
export async function* spliceRawChunks(body: AsyncIterable<Uint8Array>, queue: RawChunkQueue): AsyncGenerator<Uint8Array> {
  for await (const item of body) {
    const pieces = queue.size > 0 && isPlaceholder(item) ? queue.shift() : undefined;
    if (!pieces) {
      yield item;
      continue;
    }
    yield chunkEnvelopeHeader(pieces.reduce((n, p) => n + p.length, 0));
    yield* pieces;
  }
}

/** How many bytes of a raw download may wait in the response's write buffer (see writeAhead). */
export const WRITE_AHEAD_BYTES = 2 * 1024 * 1024;

/**
 * Lets `res` accept writes until `limit` bytes wait in its buffer, instead
 * of its 16 KiB high-water mark. Connect writes a response item by item and
 * waits for "drain" whenever `write` returns false: with raw chunks, each
 * 64 KiB piece from the store would wait for the one before it to reach the
 * socket, so the HTTP/2 stream never had more than one piece to send and
 * every piece cost a round of the event loop. Accepted writes queue in the
 * stream and go out together (HTTP/2 streams write their buffer as one
 * writev). Past `limit`, `write` returns false as usual, and the stream
 * emits "drain" once its buffer is empty; a refused write returns false too.
 */
export function writeAhead<T extends { write: (...args: never[]) => boolean; readonly writableLength: number }>(res: T, limit: number): T {
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  Object.defineProperty(res, "write", {
    configurable: true,
    value: (...args: unknown[]) => {
      const before = res.writableLength;
      // A write that was refused (the stream closed, say) queued nothing: report it as the stream did.
      return write(...args) || (res.writableLength > before && res.writableLength < limit);
    },
  });
  return res;
}
