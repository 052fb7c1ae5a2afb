/**
 * What the plain JSON-over-HTTP endpoints beside Connect (SCIM, OpenLineage)
 * share: a bounded request body, a JSON answer, and the HTTP status each
 * domain error means, mapped once here as wire/errors.ts maps them for Connect.
 * Each protocol shapes its error bodies itself.
 */
import type http from "node:http";
import type http2 from "node:http2";
import { createGunzip } from "node:zlib";
import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  InvalidInputError,
  LimitExceededError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
} from "../services/errors.js";
import { isTransactionConflict } from "../db/pg-errors.js";
import { classifyBackendFailure } from "./backend-errors.js";

export type Request = http.IncomingMessage | http2.Http2ServerRequest;
export type Response = http.ServerResponse | http2.Http2ServerResponse;

/** An answer other than success chosen by the endpoint itself; `kind`: the protocol's error type (SCIM's scimType). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly kind?: string,
  ) {
    super(message);
  }
}

/**
 * The status an error answers with and the message the client sees; unknown
 * errors are 500 with the request id only (their cause goes to the log).
 * `limitStatus`: what a limit of the server means to this protocol.
 */
export function statusOf(error: unknown, requestId: string, limitStatus = 429): { status: number; message: string } {
  const known = (status: number) => ({ status, message: (error as Error).message });
  if (error instanceof HttpError) return known(error.status);
  if (error instanceof InvalidInputError) return known(400);
  if (error instanceof UnauthenticatedError) return known(401);
  if (error instanceof PermissionDeniedError) return known(403);
  if (error instanceof NotFoundError) return known(404);
  if (error instanceof AlreadyExistsError || error instanceof FailedPreconditionError || error instanceof ConflictError) return known(409);
  if (error instanceof LimitExceededError) return known(limitStatus);
  if (isTransactionConflict(error)) return { status: 409, message: `a concurrent request touched the same data and the database aborted this one; retry it (request id ${requestId})` };
  if (classifyBackendFailure(error)) return { status: 503, message: `a backing service is unreachable; retry later (request id ${requestId})` };
  return { status: 500, message: `internal error (request id ${requestId})` };
}

/** A request header's value (the first, if sent twice). */
export function headerOf(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function sendJson(res: Response, status: number, body: unknown, headers: Record<string, string>, contentType = "application/json"): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": `${contentType}; charset=utf-8`, "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export interface BodyOptions {
  maxBytes: number;
  /** Accept `content-encoding: gzip` (the limit applies after decompression: a small gzip body must not inflate past it). */
  gzip: boolean;
  /** The 400 for a body that is not JSON. */
  notJson: HttpError;
}

/** The JSON body: 413 past the limit, 415 for an encoding not accepted, 400 when it is not JSON (or not gzip). */
export async function readJsonBody(req: Request, opts: BodyOptions): Promise<unknown> {
  const encoding = String(req.headers["content-encoding"] ?? "identity").toLowerCase();
  const gzipped = opts.gzip && encoding === "gzip";
  if (opts.gzip && !gzipped && encoding !== "identity") throw new HttpError(415, `content-encoding "${encoding.slice(0, 32)}" is not supported: send JSON, plain or gzip`);
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > opts.maxBytes) throw new HttpError(413, `the request body is ${declared} bytes; the limit is ${opts.maxBytes}`);
  const source: AsyncIterable<Buffer> = gzipped ? (req as NodeJS.ReadableStream).pipe(createGunzip()) : (req as AsyncIterable<Buffer>);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      size += chunk.length;
      if (size > opts.maxBytes) throw new HttpError(413, `the request body is over the limit of ${opts.maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HttpError || !gzipped) throw error;
    throw new HttpError(400, "the request body is not valid gzip");
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw opts.notJson;
  }
}
