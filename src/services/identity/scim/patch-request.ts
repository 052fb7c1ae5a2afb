import { InvalidFilterError, ScimPatchError } from "./errors.js";
import { parsePatchPath, type PatchPath } from "./filter.js";
import { findKey, isObject } from "./json.js";

export const PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

export type PatchOpName = "add" | "replace" | "remove";

export interface PatchOperation {
  /** Lower-cased: Entra ID sends "Add", "Replace", "Remove". */
  readonly op: PatchOpName;
  readonly path?: PatchPath;
  /** The path as sent, for messages. */
  readonly pathText?: string;
  /** A copy of the operation's value, never the caller's object. */
  readonly value?: unknown;
  /** Index in `Operations`, for messages. */
  readonly index: number;
}

export interface PatchLimits {
  readonly maxOperations: number;
  /** Elements of one value array, and attributes of one path-less value object. */
  readonly maxValues: number;
}

export const DEFAULT_PATCH_LIMITS: PatchLimits = { maxOperations: 1000, maxValues: 1000 };

/** SCIM attributes nest at most extension → attribute → element → sub-attribute; deeper JSON is refused early. */
const MAX_VALUE_DEPTH = 6;

/** Validates a PATCH body (RFC 7644 §3.5.2) and parses its paths. Throws ScimPatchError with the scimType to answer. */
export function parsePatchRequest(body: unknown, limits: PatchLimits = DEFAULT_PATCH_LIMITS): PatchOperation[] {
  if (!isObject(body)) throw new ScimPatchError("invalidSyntax", -1, `a PATCH body is a JSON object with "schemas": ["${PATCH_OP_SCHEMA}"] and an "Operations" array`);
  const schemas = body[findKey(body, "schemas") ?? "schemas"];
  // Tolerate a missing "schemas" (some clients omit it), but not a body that says it is something else.
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.some((s) => typeof s === "string" && s.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase()))) {
    throw new ScimPatchError("invalidSyntax", -1, `"schemas" of a PATCH body must contain "${PATCH_OP_SCHEMA}"`);
  }
  const operations = body[findKey(body, "Operations") ?? "Operations"];
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new ScimPatchError("invalidSyntax", -1, `a PATCH body needs an "Operations" array with at least one operation`);
  }
  if (operations.length > limits.maxOperations) {
    throw new ScimPatchError("invalidSyntax", -1, `a PATCH body may carry at most ${limits.maxOperations} operations, this one has ${operations.length}: split it into several requests`);
  }
  return operations.map((raw, index) => parseOperation(raw, index, limits));
}

function parseOperation(raw: unknown, index: number, limits: PatchLimits): PatchOperation {
  const at = `Operations[${index}]`;
  if (!isObject(raw)) throw new ScimPatchError("invalidSyntax", index, `${at} must be an object with "op", and "path" and/or "value"`);
  const field = (name: string) => raw[findKey(raw, name) ?? name];
  const opText = field("op");
  const op = typeof opText === "string" ? opText.toLowerCase() : undefined;
  if (op !== "add" && op !== "replace" && op !== "remove") {
    throw new ScimPatchError("invalidSyntax", index, `${at}.op must be "add", "replace" or "remove", not ${JSON.stringify(opText)?.slice(0, 40)}`);
  }
  const pathText = field("path");
  if (pathText !== undefined && pathText !== null && typeof pathText !== "string") {
    throw new ScimPatchError("invalidPath", index, `${at}.path must be a string`);
  }
  const value = field("value");
  checkValueShape(value, index, limits);
  let path: PatchPath | undefined;
  if (pathText) {
    try {
      path = parsePatchPath(pathText);
    } catch (error) {
      if (!(error instanceof InvalidFilterError)) throw error;
      throw new ScimPatchError("invalidPath", index, `${at}.path ${JSON.stringify(pathText.slice(0, 80))}: ${error.message}`);
    }
  }
  if (op === "remove" && !path) {
    throw new ScimPatchError("noTarget", index, `${at}: "remove" needs a "path" naming what to remove (RFC 7644 §3.5.2.2)`);
  }
  if (op !== "remove" && value === undefined) {
    throw new ScimPatchError("invalidValue", index, `${at}: "${op}" needs a "value"`);
  }
  if (!path && !isObject(value)) {
    throw new ScimPatchError("invalidValue", index, `${at}: without a "path", "value" must be an object of attributes to ${op}`);
  }
  return {
    op,
    index,
    ...(path ? { path, pathText: pathText as string } : {}),
    ...(value !== undefined ? { value: structuredClone(value) } : {}),
  };
}

function checkValueShape(value: unknown, index: number, limits: PatchLimits, depth = 0): void {
  if (depth > MAX_VALUE_DEPTH) throw new ScimPatchError("invalidValue", index, `Operations[${index}].value is nested deeper than any SCIM attribute`);
  if (Array.isArray(value)) {
    if (value.length > limits.maxValues) throw new ScimPatchError("invalidValue", index, `Operations[${index}].value has ${value.length} elements; at most ${limits.maxValues} per operation`);
    for (const v of value) checkValueShape(v, index, limits, depth + 1);
  } else if (isObject(value)) {
    const entries = Object.values(value);
    if (entries.length > limits.maxValues) throw new ScimPatchError("invalidValue", index, `Operations[${index}].value has ${entries.length} attributes; at most ${limits.maxValues}`);
    for (const v of entries) checkValueShape(v, index, limits, depth + 1);
  }
}
