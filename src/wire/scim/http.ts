/**
 * SCIM's HTTP conventions (RFC 7644 §3): JSON bodies as application/scim+json,
 * errors in the SCIM error schema with the HTTP status repeated as a string.
 * Domain errors map here once, as wire/errors.ts maps them for Connect.
 */
import type http from "node:http";
import type http2 from "node:http2";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidInputError,
  LimitExceededError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
} from "../../services/errors.js";
import { ScimError } from "../../services/identity/scim/index.js";
import { classifyBackendFailure } from "../backend-errors.js";

export type Request = http.IncomingMessage | http2.Http2ServerRequest;
export type Response = http.ServerResponse | http2.Http2ServerResponse;

export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
export const LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/** A SCIM answer other than success. */
export class ScimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: string,
  ) {
    super(message);
  }
}

export function send(res: Response, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/scim+json; charset=utf-8", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** The SCIM status, scimType and detail of an error; unknown errors are 500 with the request id only. */
export function errorBody(error: unknown, requestId: string): { status: number; body: Record<string, unknown> } {
  const [status, scimType, detail] = classify(error, requestId);
  const body: Record<string, unknown> = { schemas: [ERROR_SCHEMA], status: String(status), detail };
  if (scimType) body.scimType = scimType;
  return { status, body };
}

function classify(error: unknown, requestId: string): [number, string | undefined, string] {
  if (error instanceof ScimHttpError) return [error.status, error.scimType, error.message];
  if (error instanceof ScimError) return [400, error.scimType, error.message];
  if (error instanceof InvalidInputError) return [400, "invalidValue", error.message];
  if (error instanceof NotFoundError) return [404, undefined, error.message];
  if (error instanceof AlreadyExistsError) return [409, "uniqueness", error.message];
  if (error instanceof FailedPreconditionError) return [409, undefined, error.message];
  if (error instanceof UnauthenticatedError) return [401, undefined, error.message];
  if (error instanceof PermissionDeniedError) return [403, undefined, error.message];
  if (error instanceof LimitExceededError) return [429, undefined, error.message];
  if (classifyBackendFailure(error)) return [503, undefined, `a backing service is unreachable; retry later (request id ${requestId})`];
  return [500, undefined, `internal error (request id ${requestId})`];
}

/** Reads a JSON body of at most `maxBytes`; 413 beyond, 400 when it is not JSON. */
export async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) throw new ScimHttpError(413, `the request body is ${declared} bytes; the limit is ${maxBytes}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new ScimHttpError(413, `the request body is over the limit of ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ScimHttpError(400, "the request body is not JSON", "invalidSyntax");
  }
}
