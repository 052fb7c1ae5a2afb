import { InvalidInputError } from "../../errors.js";

/** The `scimType` values of RFC 7644 §3.12 that the pure SCIM logic can produce; all of them answer HTTP 400. */
export type ScimErrorType = "invalidFilter" | "invalidPath" | "noTarget" | "invalidValue" | "invalidSyntax" | "mutability";

/**
 * A request the SCIM rules refuse. It extends InvalidInputError so that, should it ever escape the SCIM routes,
 * the generic error map still answers "invalid argument"; the SCIM routes answer it as a SCIM error
 * (`status: "400"`, this `scimType`, `detail: message`).
 */
export class ScimError extends InvalidInputError {
  constructor(
    readonly scimType: ScimErrorType,
    field: string,
    message: string,
  ) {
    super(field, message);
  }
}

/** A `filter` (or a PATCH path) that does not parse, or is over a limit; `position` is the 0-based offset of the fault. */
export class InvalidFilterError extends ScimError {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super("invalidFilter", "filter", message);
  }
}

/** A PATCH request that cannot be applied; `operationIndex` is the index in `Operations`, or -1 for the body itself. */
export class ScimPatchError extends ScimError {
  constructor(
    scimType: ScimErrorType,
    readonly operationIndex: number,
    message: string,
  ) {
    super(scimType, operationIndex < 0 ? "Operations" : `Operations[${operationIndex}]`, message);
  }
}
