/**
 * The one place where domain errors become Connect errors. Most specific
 * first. Anything unrecognised becomes a generic Internal error with a request
 * id, and the original goes to the log: ConnectError.from would otherwise send
 * its raw message (SQL, paths, hostnames) to the client.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  ConflictError,
  DeadlineExceededError,
  DomainError,
  FailedPreconditionError,
  InvalidInputError,
  LimitExceededError,
  NotFoundError,
  UnauthenticatedError,
  UnavailableError,
} from "../services/errors.js";

export type ErrorLogger = (message: string, error: unknown) => void;

const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE", "57P01"]);

export function toConnectError(error: unknown, log: ErrorLogger): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof DomainError) {
    const code = domainCode(error);
    if (code !== undefined) return new ConnectError(error.message, code);
  }
  const id = randomUUID();
  if (isUnreachable(error)) {
    log(`request ${id}: a backing service is unreachable`, error);
    return new ConnectError(`a backing service (database or object storage) is unreachable; retry later (request id ${id})`, Code.Unavailable);
  }
  log(`request ${id}: internal error`, error);
  return new ConnectError(`internal error (request id ${id})`, Code.Internal);
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
  if (error instanceof DeadlineExceededError) return Code.DeadlineExceeded;
  return undefined;
}

function isUnreachable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNREACHABLE.has(code)) return true;
  }
  return false;
}
