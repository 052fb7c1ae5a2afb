import type { AttributePath, CompareOperator, Filter, FilterLiteral } from "./filter.js";
import { getAttribute, isObject, isUnassigned, type ScimObject } from "./json.js";

export interface EvaluateOptions {
  /**
   * Dotted attribute paths whose strings compare case-sensitively (RFC 7643 `caseExact: true`), in any case:
   * "id", "externalId", "members.value". Every other string attribute compares case-insensitively.
   */
  readonly caseExact?: Iterable<string>;
}

/** RFC 7643 §3.1: `id` and `externalId` are caseExact. */
export const DEFAULT_CASE_EXACT: readonly string[] = ["id", "externalId"];

/** Compiles `filter` once into a predicate over SCIM resources (plain JSON objects); it never throws. */
export function createFilterMatcher(filter: Filter, options: EvaluateOptions = {}): (resource: ScimObject) => boolean {
  const caseExact = new Set([...(options.caseExact ?? DEFAULT_CASE_EXACT)].map((p) => p.toLowerCase()));
  return (resource) => evaluate(filter, resource, resource, "", caseExact);
}

/** Whether `resource` matches `filter`: see createFilterMatcher. */
export function matchesFilter(resource: ScimObject, filter: Filter, options?: EvaluateOptions): boolean {
  return createFilterMatcher(filter, options)(resource);
}

/** `prefix` is "emails." inside `emails[...]`, so that caseExact and extension look-ups see full paths. */
function evaluate(filter: Filter, resource: ScimObject, scope: ScimObject, prefix: string, caseExact: Set<string>): boolean {
  switch (filter.kind) {
    case "and":
      return evaluate(filter.left, resource, scope, prefix, caseExact) && evaluate(filter.right, resource, scope, prefix, caseExact);
    case "or":
      return evaluate(filter.left, resource, scope, prefix, caseExact) || evaluate(filter.right, resource, scope, prefix, caseExact);
    case "not":
      return !evaluate(filter.filter, resource, scope, prefix, caseExact);
    case "present": {
      const raw = getAttribute(container(scope, filter.path), filter.path.attribute);
      const value = filter.path.subAttribute ? subValues(raw, filter.path.subAttribute) : raw;
      return !isUnassigned(value);
    }
    case "valuePath": {
      const raw = getAttribute(container(scope, filter.path), filter.path.attribute);
      const elements = (Array.isArray(raw) ? raw : [raw]).filter(isObject);
      const inner = `${prefix}${filter.path.attribute.toLowerCase()}.`;
      return elements.some((element) => evaluate(filter.filter, resource, element, inner, caseExact));
    }
    case "compare": {
      const values = leafValues(scope, filter.path);
      const key = `${prefix}${pathKey(filter.path)}`;
      const exact = caseExact.has(key) || (!filter.path.subAttribute && caseExact.has(`${key}.value`));
      if (filter.value === null) {
        // `x eq null` asks "is x unassigned?" (RFC 7643 §2.5 makes null and absent the same state).
        const assigned = values.some((v) => v !== null);
        return filter.op === "eq" ? !assigned : assigned;
      }
      // `ne` is "no value equals", so `emails ne "a@x"` excludes anyone holding a@x among several emails.
      if (filter.op === "ne") return !values.some((v) => compare("eq", v, filter.value, exact));
      return values.some((v) => compare(filter.op, v, filter.value, exact));
    }
  }
}

/** Attributes qualified by an extension URN live in that extension's object; the core URN qualifies top-level ones. */
function container(scope: ScimObject, path: AttributePath): ScimObject {
  if (!path.schema) return scope;
  const extension = getAttribute(scope, path.schema);
  return isObject(extension) ? extension : scope;
}

function pathKey(path: AttributePath): string {
  const name = path.subAttribute ? `${path.attribute}.${path.subAttribute}` : path.attribute;
  return name.toLowerCase();
}

function subValues(raw: unknown, sub: string): unknown[] {
  const items = Array.isArray(raw) ? raw : [raw];
  return items.flatMap((item) => {
    const v = isObject(item) ? getAttribute(item, sub) : undefined;
    return Array.isArray(v) ? v : [v];
  });
}

/**
 * The simple values a path names, multi-valued attributes flattened. A complex value compared without a
 * sub-attribute stands for its `value` sub-attribute (RFC 7644 §3.4.2.2), so `emails co "@x"` reads
 * `emails.value` and `members eq "id"` reads `members.value`.
 */
function leafValues(scope: ScimObject, path: AttributePath): unknown[] {
  const raw = getAttribute(container(scope, path), path.attribute);
  const values = path.subAttribute
    ? subValues(raw, path.subAttribute)
    : (Array.isArray(raw) ? raw : [raw]).map((item) => (isObject(item) ? getAttribute(item, "value") : item));
  return values.filter((v) => v !== undefined);
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function compare(op: CompareOperator, actual: unknown, expected: FilterLiteral, exact: boolean): boolean {
  if (typeof expected === "boolean") return actual === expected;
  if (typeof expected === "number") return typeof actual === "number" && order(op, actual, expected);
  if (typeof expected !== "string" || typeof actual !== "string") return false;
  if (op !== "co" && op !== "sw" && op !== "ew" && DATE_TIME.test(actual) && DATE_TIME.test(expected)) {
    // xsd:dateTime values compare as instants: "…34Z" equals "…34.000Z" and "+02:00" offsets count.
    const a = Date.parse(actual);
    const e = Date.parse(expected);
    if (!Number.isNaN(a) && !Number.isNaN(e)) return order(op, a, e);
  }
  const a = exact ? actual : actual.toLowerCase();
  const e = exact ? expected : expected.toLowerCase();
  switch (op) {
    case "co":
      return a.includes(e);
    case "sw":
      return a.startsWith(e);
    case "ew":
      return a.endsWith(e);
    default:
      return order(op, a, e);
  }
}

function order<T extends number | string>(op: CompareOperator, a: T, e: T): boolean {
  switch (op) {
    case "eq":
      return a === e;
    case "gt":
      return a > e;
    case "ge":
      return a >= e;
    case "lt":
      return a < e;
    case "le":
      return a <= e;
    default:
      return false;
  }
}
