import { ScimError } from "./errors.js";
import { parseAttributePath } from "./filter.js";
import { findKey, isObject, setAttribute, type ScimObject } from "./json.js";

/** The `attributes` and `excludedAttributes` query parameters (RFC 7644 §3.9), comma-separated, as received. */
export interface AttributeSelection {
  readonly attributes?: string | undefined;
  readonly excludedAttributes?: string | undefined;
}

const MAX_NAMES = 100;
const MAX_NAME_LENGTH = 256;

/** Lower-cased names to keep (`true`: the whole value) or to descend into. */
type Tree = Map<string, Tree | true>;
interface Parsed {
  readonly raw: string;
  readonly segments: readonly string[];
  readonly schema?: string;
}

/**
 * Compiles the selection once for a page of resources. `alwaysReturned` lists dotted paths that stay whatever
 * is asked (RFC 7643 `returned: always`), e.g. ["id", "schemas", "meta.resourceType"]. Unknown names select
 * nothing, as the RFC leaves them undefined; malformed ones throw ScimError `invalidValue`.
 */
export function createAttributeProjector(selection: AttributeSelection, alwaysReturned: readonly string[]): (resource: ScimObject) => ScimObject {
  const included = parseList(selection.attributes, "attributes");
  const excluded = parseList(selection.excludedAttributes, "excludedAttributes");
  const always = alwaysReturned.map((name) => parseName(name, "alwaysReturned"));
  return (resource) => {
    const alwaysTree = treeFor(resource, always);
    let result = resource;
    if (included.length > 0) result = include(result, merge(treeFor(resource, included), alwaysTree));
    if (excluded.length > 0) result = exclude(result, treeFor(resource, excluded), alwaysTree);
    return result;
  };
}

/** Applies `attributes`/`excludedAttributes` to one resource; see createAttributeProjector. */
export function projectAttributes(resource: ScimObject, selection: AttributeSelection, alwaysReturned: readonly string[]): ScimObject {
  return createAttributeProjector(selection, alwaysReturned)(resource);
}

function parseList(list: string | undefined, parameter: string): Parsed[] {
  if (list === undefined || list.trim() === "") return [];
  const names = list.split(",").map((n) => n.trim()).filter((n) => n !== "");
  if (names.length > MAX_NAMES) throw new ScimError("invalidValue", parameter, `${parameter} names ${names.length} attributes; at most ${MAX_NAMES}`);
  return names.map((name) => parseName(name, parameter));
}

function parseName(name: string, parameter: string): Parsed {
  if (name.length > MAX_NAME_LENGTH) throw new ScimError("invalidValue", parameter, `${parameter}: an attribute name is longer than ${MAX_NAME_LENGTH} characters`);
  try {
    const path = parseAttributePath(name);
    const segments = [path.attribute, ...(path.subAttribute ? [path.subAttribute] : [])].map((s) => s.toLowerCase());
    return { raw: name.toLowerCase(), segments, ...(path.schema ? { schema: path.schema.toLowerCase() } : {}) };
  } catch {
    throw new ScimError("invalidValue", parameter, `${parameter}: "${name.slice(0, 80)}" is not an attribute name (like userName, name.givenName or urn:…:User:userName)`);
  }
}

/**
 * Where a name points depends on the resource: a whole extension URN names the extension's object, a name
 * qualified by an extension URN lives inside that object, any other URN (the core schema) qualifies a top-level name.
 */
function treeFor(resource: ScimObject, names: readonly Parsed[]): Tree {
  const tree: Tree = new Map();
  for (const name of names) {
    if (isObject(resource[findKey(resource, name.raw) ?? ""])) add(tree, [name.raw]);
    else if (name.schema && isObject(resource[findKey(resource, name.schema) ?? ""])) add(tree, [name.schema, ...name.segments]);
    else add(tree, name.segments);
  }
  return tree;
}

function add(tree: Tree, segments: readonly string[]): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (rest.length === 0) {
    tree.set(head, true);
    return;
  }
  const node = tree.get(head);
  if (node === true) return;
  const child: Tree = node ?? new Map();
  tree.set(head, child);
  add(child, rest);
}

function merge(a: Tree, b: Tree): Tree {
  const out: Tree = new Map(a);
  for (const [key, node] of b) {
    const mine = out.get(key);
    out.set(key, mine === true || node === true ? true : mine ? merge(mine, node) : node);
  }
  return out;
}

function include(value: ScimObject, tree: Tree): ScimObject {
  const out: ScimObject = {};
  for (const [key, v] of Object.entries(value)) {
    const node = tree.get(key.toLowerCase());
    if (node === true) setAttribute(out, key, v);
    else if (node && isObject(v)) setAttribute(out, key, include(v, node));
    else if (node && Array.isArray(v)) setAttribute(out, key, v.map((e) => (isObject(e) ? include(e, node) : e)));
  }
  return out;
}

function exclude(value: ScimObject, tree: Tree, always: Tree | undefined): ScimObject {
  const out: ScimObject = {};
  for (const [key, v] of Object.entries(value)) {
    const lower = key.toLowerCase();
    const node = tree.get(lower);
    const keep = always?.get(lower);
    if (node === undefined || keep === true) setAttribute(out, key, v);
    else if (node === true) {
      if (keep && isObject(v)) setAttribute(out, key, include(v, keep));
    } else if (isObject(v)) setAttribute(out, key, exclude(v, node, keep || undefined));
    else if (Array.isArray(v)) setAttribute(out, key, v.map((e) => (isObject(e) ? exclude(e, node, keep || undefined) : e)));
    else setAttribute(out, key, v);
  }
  return out;
}
