/**
 * SCIM's HTTP conventions (RFC 7644 §3): JSON bodies as application/scim+json,
 * errors in the SCIM error schema with the HTTP status repeated as a string.
 * Domain errors map here once, as wire/errors.ts maps them for Connect.
 */
import { AlreadyExistsError, InvalidInputError } from "../../services/errors.js";
import { ScimError } from "../../services/identity/scim/index.js";
import { HttpError, type Response, sendJson, statusOf } from "../json-http.js";

export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";
export const LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

export function send(res: Response, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  sendJson(res, status, body, headers, "application/scim+json");
}

/** The SCIM status, scimType and detail of an error; unknown errors are 500 with the request id only. */
export function errorBody(error: unknown, requestId: string): { status: number; body: Record<string, unknown> } {
  const { status, message: detail } = statusOf(error, requestId);
  const scimType = scimTypeOf(error);
  const body: Record<string, unknown> = { schemas: [ERROR_SCHEMA], status: String(status), detail };
  if (scimType) body.scimType = scimType;
  return { status, body };
}

/** A SCIM error type for what the domain error means, where the RFC names one. */
function scimTypeOf(error: unknown): string | undefined {
  if (error instanceof HttpError) return error.kind;
  if (error instanceof ScimError) return error.scimType;
  if (error instanceof AlreadyExistsError) return "uniqueness";
  if (error instanceof InvalidInputError) return "invalidValue";
  return undefined;
}
