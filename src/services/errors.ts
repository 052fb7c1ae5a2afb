/**
 * The domain's error vocabulary. Services throw these and nothing else on
 * purpose; wire/errors.ts maps each to one Connect code, once. Messages are
 * shown to clients, so they say what to fix and never leak paths, SQL or
 * stack traces.
 */
export class DomainError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input is malformed regardless of state: fix the request. */
export class InvalidInputError extends DomainError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Nothing by that id or name exists in the caller's organisation. */
export class NotFoundError extends DomainError {}

/** The thing to create exists already, with other content. */
export class AlreadyExistsError extends DomainError {}

/** The request is well-formed but the state does not allow it (e.g. an upload still in progress). */
export class FailedPreconditionError extends DomainError {}

/** A concurrent writer got there first; retrying the same request may succeed. */
export class ConflictError extends DomainError {}

/** The caller is known but may not do this; the message says which role it needs. */
export class PermissionDeniedError extends DomainError {}

/** No valid credentials were presented. */
export class UnauthenticatedError extends DomainError {}

/** A limit of the server was exceeded. */
export class LimitExceededError extends DomainError {}

/** A dependency (database, object storage) is unreachable; retry later. */
export class UnavailableError extends DomainError {}

/** Committed bytes are missing or damaged in storage: nothing the client can fix; an operator must restore them. */
export class DataLossError extends DomainError {}
/** Something took too long (e.g. a stream that sent nothing for its idle timeout); what is durable stays. */
export class DeadlineExceededError extends DomainError {}
