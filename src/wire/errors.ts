/**
 * The one place where domain errors become Connect errors. Most specific
 * first. Anything unrecognised becomes a generic Internal error with the
 * request id, and the original stays on the error as its `cause`, which the
 * RPC's log line shows and the client never sees: ConnectError.from would
 * otherwise send its raw message (SQL, paths, hostnames) to the client.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { isTransactionConflict } from "../db/pg-errors.js";
import { classifyBackendFailure } from "./backend-errors.js";
import {
  AlreadyExistsError,
  ConflictError,
  DataLossError,
  DeadlineExceededError,
  DomainError,
  FailedPreconditionError,
  InvalidInputError,
  LimitExceededError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
} from "../services/errors.js";

export function toConnectError(error: unknown, requestId: string): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof DomainError) {
    const code = domainCode(error);
    if (code !== undefined) return new ConnectError(error.message, code, undefined, undefined, error.cause);
  }
  const backend = backendError(error, requestId);
  if (backend) return backend;
  if (isTransactionConflict(error)) {
    return new ConnectError(`a concurrent request touched the same data and the database aborted this one; retry it (request id ${requestId})`, Code.Aborted, undefined, undefined, error);
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
  if (error instanceof PermissionDeniedError) return Code.PermissionDenied;
  if (error instanceof LimitExceededError) return Code.ResourceExhausted;
  if (error instanceof UnavailableError) return Code.Unavailable;
  if (error instanceof DataLossError) return Code.DataLoss;
  if (error instanceof DeadlineExceededError) return Code.DeadlineExceeded;
  return undefined;
}

/**
 * An outage of the database or object storage is UNAVAILABLE: the request did
 * not happen and the same request may succeed later. A statement cancelled by
 * the server's statement timeout is DEADLINE_EXCEEDED instead: the database
 * is up and answered, the request itself was too slow, so retrying it at once
 * will probably time out again (narrow it, or retry when the load is lower).
 */
const SERVICE_NAMES = { database: "the database", "object storage": "object storage" } as const;

function backendError(error: unknown, id: string): ConnectError | undefined {
  const failure = classifyBackendFailure(error);
  if (!failure) return undefined;
  if (failure.kind === "statement-timeout") {
    return new ConnectError(
      `a database statement ran past the server's statement timeout; retry later or ask for less (request id ${id})`,
      Code.DeadlineExceeded,
      undefined,
      undefined,
      error,
    );
  }
  const what = failure.backend ? SERVICE_NAMES[failure.backend] : "a backing service (database or object storage)";
  return new ConnectError(`${what} is unreachable (${failure.reason}); retry later (request id ${id})`, Code.Unavailable, undefined, undefined, error);
}
