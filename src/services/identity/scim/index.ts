/** SCIM 2.0 logic without I/O: filters, PATCH, attribute projection. The SCIM routes import from here only. */
export { createAttributeProjector, projectAttributes, type AttributeSelection } from "./attributes.js";
export { InvalidFilterError, ScimError, ScimPatchError, type ScimErrorType } from "./errors.js";
export { createFilterMatcher, DEFAULT_CASE_EXACT, matchesFilter, type EvaluateOptions } from "./evaluate.js";
export {
  DEFAULT_FILTER_LIMITS,
  parseAttributePath,
  parseFilter,
  parsePatchPath,
  type AttributePath,
  type CompareOperator,
  type Filter,
  type FilterLimits,
  type FilterLiteral,
  type PatchPath,
} from "./filter.js";
export { getAttribute, isObject, type ScimObject } from "./json.js";
export { applyPatch } from "./patch.js";
export { DEFAULT_PATCH_LIMITS, PATCH_OP_SCHEMA, parsePatchRequest, type PatchLimits, type PatchOperation, type PatchOpName } from "./patch-request.js";
export type { ScimResourceSchema } from "./schema.js";
