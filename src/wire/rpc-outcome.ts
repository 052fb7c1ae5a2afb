/**
 * What the bytes of an RPC say about it, for its log line and metrics: body
 * sizes counted as they pass, and the final code of a response that no
 * interceptor saw (a request body that did not parse, an unsupported content
 * type), read from the response itself.
 */
import { Code } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeFromHttpStatus } from "@connectrpc/connect/protocol-connect";
import { codeName, type RpcRecord } from "./rpc-record.js";

/** The first bytes of a response body (kept only for error statuses) and its last chunk. */
export interface BodyTap {
  head: Uint8Array[];
  headBytes: number;
  last: Uint8Array | undefined;
}

/**
 * The code and message of a response the interceptors never saw (a body that
 * did not parse, an unsupported content type): gRPC carries the code in a
 * status trailer (or header, when trailers-only), gRPC-Web in a trailer frame
 * at the end of the body, the Connect protocol in the HTTP status and a JSON body.
 */
export function outcomeOfResponse(response: UniversalServerResponse | undefined, tap: BodyTap, aborted: boolean): Pick<RpcRecord, "code" | "message"> {
  if (!response) return { code: aborted ? Code.Canceled : Code.Unknown };
  const fromStatus = (status: string | null | undefined, message: string | null | undefined) =>
    status === "0" ? { code: "ok" as const } : { code: Number(status) as Code, message: message ? decodeURIComponent(message) : undefined };
  const grpcStatus = response.trailer?.get("grpc-status") ?? response.header?.get("grpc-status");
  if (grpcStatus) return fromStatus(grpcStatus, response.trailer?.get("grpc-message") ?? response.header?.get("grpc-message"));
  if (response.header?.get("content-type")?.startsWith("application/grpc-web") && tap.last) {
    const trailer = Buffer.from(tap.last).toString("latin1");
    const status = /grpc-status:\s*(\d+)/i.exec(trailer)?.[1];
    if (status) return fromStatus(status, /grpc-message:\s*([^\r\n]*)/i.exec(trailer)?.[1]);
  }
  if (response.status === 200) return { code: "ok" };
  try {
    const { code, message } = JSON.parse(Buffer.concat(tap.head).toString("utf8")) as { code?: string; message?: string };
    const known = Object.values(Code).find((c) => typeof c === "number" && codeName(c) === code) as Code | undefined;
    return { code: known ?? codeFromHttpStatus(response.status), message };
  } catch {
    return { code: codeFromHttpStatus(response.status) };
  }
}

export function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

/** Counts a body's bytes as they pass; with a tap, keeps its first `headBytes` and its last chunk. */
export async function* tapped(body: AsyncIterable<Uint8Array>, add: (n: number) => void, tap?: BodyTap, headBytes = 0): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    add(chunk.byteLength);
    if (tap) {
      if (tap.headBytes < headBytes) {
        tap.head.push(chunk.subarray(0, headBytes - tap.headBytes));
        tap.headBytes += chunk.byteLength;
      }
      tap.last = chunk;
    }
    yield chunk;
  }
}
