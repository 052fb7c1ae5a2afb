/**
 * The HTTP side of OpenLineage intake: the body (JSON, optionally gzip as
 * openlineage-python's HttpTransport sends with compression "gzip"), and
 * answers as Marquez gives them: 201 with no body, errors as {code, message}.
 * Domain errors map here once, as wire/errors.ts maps them for Connect.
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
} from "../../services/errors.js";
import { classifyBackendFailure } from "../backend-errors.js";

export type Request = http.IncomingMessage | http2.Http2ServerRequest;
export type Response = http.ServerResponse | http2.Http2ServerResponse;

/** An answer other than success, chosen here rather than by a domain error. */
export class LineageHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function send(res: Response, status: number, body: unknown, headers: Record<string, string>): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** The status and body of an error; unknown errors are 500 with the request id only (the cause goes to the log). */
export function errorAnswer(error: unknown, requestId: string): { status: number; body: { code: number; message: string; field?: string } } {
  const [status, message] = classify(error, requestId);
  const body: { code: number; message: string; field?: string } = { code: status, message };
  if (error instanceof InvalidInputError) body.field = error.field;
  return { status, body };
}

function classify(error: unknown, requestId: string): [number, string] {
  if (error instanceof LineageHttpError) return [error.status, error.message];
  if (error instanceof InvalidInputError) return [400, error.message];
  if (error instanceof UnauthenticatedError) return [401, error.message];
  if (error instanceof PermissionDeniedError) return [403, error.message];
  if (error instanceof NotFoundError) return [404, error.message];
  if (error instanceof AlreadyExistsError || error instanceof FailedPreconditionError || error instanceof ConflictError) return [409, error.message];
  // A limit of a pipeline run (instances, edges): retrying will not help, unlike 429.
  if (error instanceof LimitExceededError) return [422, error.message];
  if (classifyBackendFailure(error)) return [503, `a backing service is unreachable; retry later (request id ${requestId})`];
  return [500, `internal error (request id ${requestId})`];
}

/**
 * The JSON body, of at most `maxBytes` once decompressed (a small gzip body
 * must not inflate past the limit): 413 beyond, 415 for an encoding other
 * than gzip, 400 when it is not JSON.
 */
export async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const encoding = String(req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") throw new LineageHttpError(415, `content-encoding "${encoding.slice(0, 32)}" is not supported: send JSON, plain or gzip`);
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) throw new LineageHttpError(413, `the request body is ${declared} bytes; the limit is ${maxBytes}`);
  const source: AsyncIterable<Buffer> = encoding === "gzip" ? (req as NodeJS.ReadableStream).pipe(createGunzip()) : (req as AsyncIterable<Buffer>);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      size += chunk.length;
      if (size > maxBytes) throw new LineageHttpError(413, `the request body is over the limit of ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof LineageHttpError) throw error;
    if (encoding === "gzip") throw new LineageHttpError(400, "the request body is not valid gzip");
    throw error;
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new LineageHttpError(400, "the request body is not JSON: send one OpenLineage RunEvent as a JSON object");
  }
}
