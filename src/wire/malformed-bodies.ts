/**
 * A request body that is not a valid protobuf message is the client's error:
 * INVALID_ARGUMENT, on every protocol.
 *
 * connect-es (2.2, protocol/serialization.js) wraps every failure of its
 * binary parser as `ConnectError("parse binary: …", Code.Internal)`, and for
 * unary calls it parses before any interceptor runs (the Connect handler
 * before invoking them, gRPC and gRPC-Web in `ensureSingle`), so no
 * interceptor ever sees the error. No handler option reaches the parser
 * (`binaryOptions` only tunes unknown fields and recursion). What can be
 * reached is the universal handler each method is served by: the router's
 * `handlers`, which the Node adapter reads after `routes` has run. So each
 * handler is wrapped, and a response that carries that parse failure is
 * rewritten, in the form of its protocol, as InvalidArgument. For client
 * streams the failure surfaces while the handler reads its requests, so an
 * interceptor maps it there too: the handler, and whatever logs the call,
 * see INVALID_ARGUMENT as well.
 *
 * The failure is recognised by code and message prefix because the library
 * gives it no other mark; a library upgrade that changes either makes the
 * malformed-body tests fail rather than pass silently.
 */
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";

const PARSE_FAILURE_PREFIX = "parse binary:";
const GRPC_WEB_TRAILER_FLAG = 0x80;
const CONNECT_END_STREAM_FLAG = 0x02;
const ENVELOPE_HEADER_BYTES = 5;

function isParseFailure(code: string | null | undefined, message: string | null | undefined): boolean {
  return (code === "internal" || code === String(Code.Internal)) && (message ?? "").startsWith(PARSE_FAILURE_PREFIX);
}

function malformedMessage(typeName: string, detail: string): string {
  const why = detail.slice(PARSE_FAILURE_PREFIX.length).trim();
  return `malformed request body: not a valid ${typeName} message in the protobuf binary format (${why}); send the message the method's schema describes`;
}

/** Wraps every handler of the router so that a malformed protobuf body is answered INVALID_ARGUMENT. Call after every service is registered. */
export function answerMalformedBodiesAsInvalidArgument(router: ConnectRouter): void {
  router.handlers.forEach((handler, i) => {
    router.handlers[i] = withMalformedBodiesAnswered(handler);
  });
}

/** Maps the parse failure raised while a handler reads a client stream to InvalidArgument. */
export const malformedStreamInterceptor: Interceptor = (next) => async (req) => {
  if (!req.stream) return next(req);
  const typeName = req.method.input.typeName;
  async function* checked<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
    try {
      yield* messages;
    } catch (error) {
      if (error instanceof ConnectError && error.code === Code.Internal && error.rawMessage.startsWith(PARSE_FAILURE_PREFIX)) {
        throw new ConnectError(malformedMessage(typeName, error.rawMessage), Code.InvalidArgument);
      }
      throw error;
    }
  }
  return next({ ...req, message: checked(req.message) });
};

function withMalformedBodiesAnswered(handler: UniversalHandler): UniversalHandler {
  const typeName = handler.method.input.typeName;
  const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    const contentType = req.header.get("content-type") ?? "";
    if (res.header?.has("content-encoding") || res.header?.has("grpc-encoding") || res.header?.has("connect-content-encoding")) {
      return res; // compressed error frames are left as they are; errors are far below the compression threshold
    }
    if (contentType.startsWith("application/grpc-web")) return mapBodyChunks(res, (chunk) => rewriteGrpcWebTrailer(chunk, typeName));
    if (contentType.startsWith("application/grpc")) return rewriteGrpcTrailer(res, typeName);
    if (contentType.startsWith("application/connect+")) return mapBodyChunks(res, (chunk) => rewriteConnectEndStream(chunk, typeName));
    return res.status === 500 ? rewriteConnectUnary(res, typeName) : res;
  };
  return Object.assign(wrapped, handler);
}

async function* mapChunks(body: AsyncIterable<Uint8Array>, map: (chunk: Uint8Array) => Uint8Array): AsyncIterable<Uint8Array> {
  for await (const chunk of body) yield map(chunk);
}

function mapBodyChunks(res: UniversalServerResponse, map: (chunk: Uint8Array) => Uint8Array): UniversalServerResponse {
  return res.body ? { ...res, body: mapChunks(res.body, map) } : res;
}

/** gRPC: the status is in trailers, set when the body ends and read by the adapter after it. */
function rewriteGrpcTrailer(res: UniversalServerResponse, typeName: string): UniversalServerResponse {
  const { trailer, body } = res;
  if (!trailer || !body) return res;
  async function* thenFix(): AsyncIterable<Uint8Array> {
    yield* body as AsyncIterable<Uint8Array>;
    const message = decodeGrpcMessage(trailer?.get("grpc-message"));
    if (trailer && isParseFailure(trailer.get("grpc-status"), message)) {
      trailer.set("grpc-status", String(Code.InvalidArgument));
      trailer.set("grpc-message", encodeURIComponent(malformedMessage(typeName, message)));
    }
  }
  return { ...res, body: thenFix() };
}

/** gRPC-Web: the trailers are the body's last envelope (flag 0x80), one envelope per chunk. */
function rewriteGrpcWebTrailer(chunk: Uint8Array, typeName: string): Uint8Array {
  if (chunk[0] !== GRPC_WEB_TRAILER_FLAG || chunk.length < ENVELOPE_HEADER_BYTES) return chunk;
  const text = Buffer.from(chunk.subarray(ENVELOPE_HEADER_BYTES)).toString("utf8");
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const at = line.indexOf(":");
    if (at > 0) fields.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
  }
  const message = decodeGrpcMessage(fields.get("grpc-message"));
  if (!isParseFailure(fields.get("grpc-status"), message)) return chunk;
  fields.set("grpc-status", String(Code.InvalidArgument));
  fields.set("grpc-message", encodeURIComponent(malformedMessage(typeName, message)));
  return envelope(GRPC_WEB_TRAILER_FLAG, Buffer.from([...fields].map(([k, v]) => `${k}: ${v}\r\n`).join(""), "utf8"));
}

/** Connect streams: the error is in the end-of-stream envelope (flag 0x02), as JSON. */
function rewriteConnectEndStream(chunk: Uint8Array, typeName: string): Uint8Array {
  if (chunk[0] !== CONNECT_END_STREAM_FLAG || chunk.length < ENVELOPE_HEADER_BYTES) return chunk;
  const end = parseJson(chunk.subarray(ENVELOPE_HEADER_BYTES)) as { error?: { code?: string; message?: string } } | undefined;
  if (!end?.error || !isParseFailure(end.error.code, end.error.message)) return chunk;
  end.error = { code: "invalid_argument", message: malformedMessage(typeName, end.error.message ?? "") };
  return envelope(CONNECT_END_STREAM_FLAG, Buffer.from(JSON.stringify(end), "utf8"));
}

/** Connect unary: an error is an HTTP status with a JSON body of one chunk. */
async function rewriteConnectUnary(res: UniversalServerResponse, typeName: string): Promise<UniversalServerResponse> {
  if (!res.body) return res;
  const chunks: Uint8Array[] = [];
  for await (const chunk of res.body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks); // an error body of a few hundred bytes
  const error = parseJson(bytes) as { code?: string; message?: string } | undefined;
  if (!error || !isParseFailure(error.code, error.message)) return { ...res, body: once(bytes) };
  const body = Buffer.from(JSON.stringify({ code: "invalid_argument", message: malformedMessage(typeName, error.message ?? "") }), "utf8");
  const header = new Headers(res.header);
  header.set("content-length", String(body.length));
  return { ...res, status: 400, header, body: once(body) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

function envelope(flags: number, data: Buffer): Uint8Array {
  const out = Buffer.alloc(ENVELOPE_HEADER_BYTES + data.length);
  out.writeUInt8(flags, 0);
  out.writeUInt32BE(data.length, 1);
  data.copy(out, ENVELOPE_HEADER_BYTES);
  return out;
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return undefined;
  }
}

function decodeGrpcMessage(value: string | null | undefined): string {
  if (!value) return "";
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
