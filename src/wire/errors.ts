/**
 * The one place where domain errors become Connect errors. Most specific
 * first. Anything unrecognised becomes a generic Internal error with the
 * request id, and the original stays on the error as its `cause`, which the
 * RPC's log line shows and the client never sees: ConnectError.from would
 * otherwise send its raw message (SQL, paths, hostnames) to the client.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  ConflictError,
  DomainError,
  FailedPreconditionError,
  InvalidInputError,
  LimitExceededError,
  NotFoundError,
  UnauthenticatedError,
  UnavailableError,
} from "../services/errors.js";

const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE", "57P01"]);

export function toConnectError(error: unknown, requestId: string): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof DomainError) {
    const code = domainCode(error);
    if (code !== undefined) return new ConnectError(error.message, code, undefined, undefined, error.cause);
  }
  if (isUnreachable(error)) {
    return new ConnectError(
      `a backing service (database or object storage) is unreachable; retry later (request id ${requestId})`,
      Code.Unavailable,
      undefined,
      undefined,
      error,
    );
  }
  return new ConnectError(`internal error (request id ${requestId})`, Code.Internal, undefined, undefined, error);
}

function domainCode(error: DomainError): Code | undefined {
  if (error instanceof InvalidInputError) return Code.InvalidArgument;
  if (error instanceof NotFoundError) return Code.NotFound;
  if (error instanceof AlreadyExistsError) return Code.AlreadyExists;
  if (error instanceof FailedPreconditionError) return Code.FailedPrecondition;
  if (error instanceof ConflictError) return Code.Aborted;
  if (error instanceof UnauthenticatedError) return Code.Unauthenticated;
  if (error instanceof LimitExceededError) return Code.ResourceExhausted;
  if (error instanceof UnavailableError) return Code.Unavailable;
  return undefined;
}

function isUnreachable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNREACHABLE.has(code)) return true;
  }
  return false;
}
