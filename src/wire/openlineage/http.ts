/**
 * OpenLineage intake's answers, as Marquez gives them: 201 with no body,
 * errors as {code, message, field}. A limit of a pipeline run (instances,
 * edges) is 422: retrying will not help, unlike 429.
 */
import { InvalidInputError } from "../../services/errors.js";
import { statusOf } from "../json-http.js";

/** The status and body of an error. */
export function errorAnswer(error: unknown, requestId: string): { status: number; body: { code: number; message: string; field?: string } } {
  const { status, message } = statusOf(error, requestId, 422);
  const body: { code: number; message: string; field?: string } = { code: status, message };
  if (error instanceof InvalidInputError) body.field = error.field;
  return { status, body };
}
