import { createFilterMatcher, DEFAULT_CASE_EXACT } from "./evaluate.js";
import { InvalidFilterError, ScimPatchError } from "./errors.js";
import { parseAttributePath, type AttributePath, type Filter } from "./filter.js";
import { deleteAttribute, getAttribute, isObject, isUnassigned, jsonEqual, setAttribute, type ScimObject } from "./json.js";
import { normalizeValue } from "./patch-values.js";
import type { PatchOperation, PatchOpName } from "./patch-request.js";
import { indexSchema, type ScimResourceSchema, type SchemaIndex } from "./schema.js";

/** Where an operation lands, with names in their canonical case. */
export interface PatchTarget {
  /** Canonical URN of the extension holding the attribute; absent for core attributes. */
  readonly extension?: string;
  readonly attribute: string;
  /** Lower-cased full name ("emails", "urn:…:user:manager"), the key into the schema index. */
  readonly key: string;
  readonly subAttribute?: string;
  readonly filter?: Filter;
  /** The path as the client wrote it. */
  readonly label: string;
}

/**
 * Applies parsed PATCH operations (see parsePatchRequest) in order to a copy of `resource`, which is never
 * mutated; the caller validates the result as it would a PUT body. Throws ScimPatchError: invalidPath for a
 * path outside `schema`, noTarget for a value filter that matches nothing, mutability for read-only attributes,
 * invalidValue for values of the wrong shape.
 */
export function applyPatch(resource: ScimObject, operations: readonly PatchOperation[], schema: ScimResourceSchema): ScimObject {
  const index = indexSchema(schema);
  const result = structuredClone(resource);
  for (const operation of operations) applyOperation(result, operation, index);
  return result;
}

function applyOperation(root: ScimObject, operation: PatchOperation, index: SchemaIndex): void {
  const { op, path, value } = operation;
  if (path) {
    const target = resolveTarget(index, operation.index, path.path, operation.pathText ?? "", path.filter, path.subAttribute);
    if (isReadOnly(index, target)) throw mutability(operation.index, target);
    const normalized = value === undefined ? undefined : normalizeValue(index, operation.index, target, value);
    applyAt(root, op, target, normalized, index, operation.index);
    return;
  }
  // Path-less add/replace (Okta's `{"op":"replace","value":{"active":false}}`): each key is a path of its own.
  for (const [name, attributeValue] of Object.entries(value as ScimObject)) {
    const extension = index.extensions.get(name.toLowerCase());
    if (extension === undefined) {
      applyPathless(root, operation, index, name, attributeValue, undefined);
    } else if (isObject(attributeValue)) {
      for (const [inner, innerValue] of Object.entries(attributeValue)) applyPathless(root, operation, index, inner, innerValue, extension);
    } else {
      throw new ScimPatchError("invalidValue", operation.index, `Operations[${operation.index}].value["${name}"] must be an object of that extension's attributes`);
    }
  }
}

function applyPathless(root: ScimObject, operation: PatchOperation, index: SchemaIndex, name: string, value: unknown, extension: string | undefined): void {
  let path: AttributePath;
  try {
    path = parseAttributePath(name);
  } catch (error) {
    if (!(error instanceof InvalidFilterError)) throw error;
    throw new ScimPatchError("invalidPath", operation.index, `Operations[${operation.index}].value: ${error.message}`);
  }
  const target = resolveTarget(index, operation.index, path, name, undefined, undefined, extension);
  if (isReadOnly(index, target)) {
    // Okta's group rename repeats the group's `id` next to `displayName`: an unchanged read-only value is no change.
    if (jsonEqual(currentValue(root, target), value)) return;
    throw mutability(operation.index, target);
  }
  applyAt(root, operation.op, target, normalizeValue(index, operation.index, target, value), index, operation.index);
}

/** Resolves a path against the schema; throws invalidPath naming the part that is not known. */
export function resolveTarget(
  index: SchemaIndex,
  opIndex: number,
  path: AttributePath,
  label: string,
  filter?: Filter,
  afterBracket?: string,
  extensionOfValue?: string,
): PatchTarget {
  let extension = extensionOfValue;
  if (path.schema) {
    const urn = path.schema.toLowerCase();
    if (urn === index.coreSchema) extension = undefined;
    else if (index.extensions.has(urn)) extension = index.extensions.get(urn);
    else throw invalidPath(opIndex, label, `"${path.schema}" is not a schema of this resource type`);
  }
  const key = `${extension ? `${extension.toLowerCase()}:` : ""}${path.attribute.toLowerCase()}`;
  const attribute = index.names.get(key);
  if (attribute === undefined) throw invalidPath(opIndex, label, `"${path.attribute}" is not an attribute of this resource type`);
  const subName = path.subAttribute ?? afterBracket;
  const subAttribute = subName === undefined ? undefined : index.names.get(`${key}.${subName.toLowerCase()}`);
  if (subName !== undefined && subAttribute === undefined) throw invalidPath(opIndex, label, `"${attribute}" has no sub-attribute "${subName}"`);
  if (filter && !index.multiValued.has(key)) throw invalidPath(opIndex, label, `"${attribute}" is single-valued, so it cannot take a "[...]" filter`);
  return { attribute, key, label, ...(extension ? { extension } : {}), ...(subAttribute ? { subAttribute } : {}), ...(filter ? { filter } : {}) };
}

function isReadOnly(index: SchemaIndex, target: PatchTarget): boolean {
  return index.readOnly.has(target.key) || (target.subAttribute !== undefined && index.readOnly.has(`${target.key}.${target.subAttribute.toLowerCase()}`));
}

function currentValue(root: ScimObject, target: PatchTarget): unknown {
  const scope = target.extension ? getAttribute(root, target.extension) : root;
  const value = isObject(scope) ? getAttribute(scope, target.attribute) : undefined;
  return target.subAttribute && isObject(value) ? getAttribute(value, target.subAttribute) : value;
}

function applyAt(root: ScimObject, op: PatchOpName, target: PatchTarget, value: unknown, index: SchemaIndex, opIndex: number): void {
  const scope = scopeOf(root, target, op !== "remove");
  if (!scope) return;
  const current = getAttribute(scope, target.attribute);
  const multi = index.multiValued.has(target.key);
  const store = (next: unknown) => (isUnassigned(next) ? deleteAttribute(scope, target.attribute) : setAttribute(scope, target.attribute, next));
  if (target.filter) return store(applyFiltered(op, target, current, value, index, opIndex));
  if (target.subAttribute) return store(applySub(op, target.subAttribute, current, value, multi));
  if (op === "remove") {
    // Entra removes members with `"path": "members"` and the members to drop in `value`; without a value, all go.
    if (!multi || value === undefined) return store(undefined);
    const drop = new Set(asArray(value).map(elementKey));
    return store(asArray(current).filter((e) => !drop.has(elementKey(e))));
  }
  if (value === null) return op === "replace" ? store(undefined) : undefined;
  if (multi) {
    if (op === "replace") return store(asArray(value));
    const merged = asArray(current);
    const present = new Set(merged.map(elementKey));
    for (const v of asArray(value)) {
      if (present.has(elementKey(v))) continue;
      present.add(elementKey(v));
      merged.push(v);
    }
    return store(merged);
  }
  // RFC 7644 §3.5.2.1/.3: a complex value names the sub-attributes to set; the others stay.
  if (index.complex.has(target.key) && isObject(value)) return store({ ...(isObject(current) ? current : {}), ...value });
  store(value);
}

/** The object holding the attribute: the resource, or its extension object (created, and listed in `schemas`, on write). */
function scopeOf(root: ScimObject, target: PatchTarget, create: boolean): ScimObject | undefined {
  if (!target.extension) return root;
  const existing = getAttribute(root, target.extension);
  if (isObject(existing) || !create) return isObject(existing) ? existing : undefined;
  const created: ScimObject = {};
  setAttribute(root, target.extension, created);
  const schemas = getAttribute(root, "schemas");
  if (Array.isArray(schemas) && !schemas.some((s) => typeof s === "string" && s.toLowerCase() === target.extension?.toLowerCase())) {
    setAttribute(root, "schemas", [...schemas, target.extension]);
  }
  return created;
}

function applySub(op: PatchOpName, sub: string, current: unknown, value: unknown, multi: boolean): unknown {
  const write = (element: unknown) => {
    const copy: ScimObject = isObject(element) ? { ...element } : {};
    if (op === "remove" || value === null) deleteAttribute(copy, sub);
    else setAttribute(copy, sub, value);
    return copy;
  };
  if (!multi) return write(current);
  const elements = asArray(current);
  if (elements.length === 0) return op === "remove" ? undefined : [write(undefined)];
  return elements.map(write).filter((e) => !isUnassigned(e));
}

function applyFiltered(op: PatchOpName, target: PatchTarget, current: unknown, value: unknown, index: SchemaIndex, opIndex: number): unknown {
  const filter = target.filter as Filter;
  const elements = asArray(current);
  const prefix = `${target.key}.`;
  const caseExact = (index.schema.caseExact ?? DEFAULT_CASE_EXACT).map((p) => p.toLowerCase()).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  const matches = createFilterMatcher(filter, { caseExact });
  const hit = elements.map((e) => isObject(e) && matches(e));
  if (!hit.includes(true)) {
    // Entra sends `"op":"Add","path":"emails[type eq \"work\"].value"` to a user without a work email:
    // the filter's equalities describe the element to create.
    const template = op === "add" && target.subAttribute ? equalityTemplate(filter, index, target.key) : undefined;
    if (template) return [...elements, { ...template, [target.subAttribute as string]: value }];
    throw new ScimPatchError("noTarget", opIndex, `Operations[${opIndex}].path "${target.label}" matches no value of "${target.attribute}"`);
  }
  if (op === "remove") {
    if (!target.subAttribute) return elements.filter((_, i) => !hit[i]);
    return elements.map((e, i) => (hit[i] ? applySub("remove", target.subAttribute as string, e, undefined, false) : e)).filter((e) => !isUnassigned(e));
  }
  if (target.subAttribute) return elements.map((e, i) => (hit[i] ? applySub(op, target.subAttribute as string, e, value, false) : e));
  const replacement = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (!isObject(replacement)) throw new ScimPatchError("invalidValue", opIndex, `Operations[${opIndex}].value must be one "${target.attribute}" object to put in place of the matched values`);
  return elements.map((e, i) => (hit[i] ? (op === "replace" ? replacement : { ...(e as ScimObject), ...replacement }) : e));
}

/** `type eq "work"` (or several such joined by `and`) as `{type: "work"}`; undefined for any other filter. */
function equalityTemplate(filter: Filter, index: SchemaIndex, key: string): ScimObject | undefined {
  if (filter.kind === "and") {
    const left = equalityTemplate(filter.left, index, key);
    const right = equalityTemplate(filter.right, index, key);
    return left && right ? { ...left, ...right } : undefined;
  }
  if (filter.kind !== "compare" || filter.op !== "eq" || filter.value === null || filter.path.subAttribute || filter.path.schema) return undefined;
  const name = index.names.get(`${key}.${filter.path.attribute.toLowerCase()}`);
  return name === undefined ? undefined : { [name]: filter.value };
}

/**
 * Identity of a multi-valued element: its `value` sub-attribute when it has one (members, emails), else the
 * whole element. A string key lets adds and removes use a Set: a group of 50,000 members patched with 1,000
 * values stays linear instead of 50 million comparisons.
 */
function elementKey(element: unknown): string {
  const value = isObject(element) ? getAttribute(element, "value") : undefined;
  return value === undefined ? `e${JSON.stringify(element)}` : `v${JSON.stringify(value)}`;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? [...value] : [value];
}

function invalidPath(opIndex: number, label: string, why: string): ScimPatchError {
  return new ScimPatchError("invalidPath", opIndex, `Operations[${opIndex}] path "${label.slice(0, 80)}": ${why}`);
}

function mutability(opIndex: number, target: PatchTarget): ScimPatchError {
  return new ScimPatchError("mutability", opIndex, `Operations[${opIndex}]: "${target.label.slice(0, 80)}" is read-only and cannot be changed by PATCH`);
}
