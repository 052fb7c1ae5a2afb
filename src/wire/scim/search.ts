/**
 * The parameters of a SCIM query (RFC 7644 §3.4.2), from the URL of a GET or
 * from the body of a POST …/.search (§3.4.3), which identity providers use
 * to keep filters out of URLs and logs.
 */
import { type Filter, getAttribute, isObject, type ScimObject } from "../../services/identity/scim/index.js";
import { HttpError } from "../json-http.js";
import { MAX_RESULTS } from "./schemas.js";

export const SEARCH_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

export interface QueryParameters {
  filter?: string;
  attributes?: string;
  excludedAttributes?: string;
  /** 1-based. */
  startIndex: number;
  count: number;
}

const DEFAULT_COUNT = 100;

export function queryFromUrl(query: URLSearchParams): QueryParameters {
  return {
    filter: query.get("filter") || undefined,
    attributes: query.get("attributes") ?? undefined,
    excludedAttributes: query.get("excludedAttributes") ?? undefined,
    startIndex: Math.max(1, intParam(query.get("startIndex"), "startIndex", 1)),
    count: Math.min(MAX_RESULTS, Math.max(0, intParam(query.get("count"), "count", DEFAULT_COUNT))),
  };
}

/** A SearchRequest body; its attribute lists are arrays of names (or, leniently, comma-separated strings). */
export function queryFromBody(body: unknown): QueryParameters {
  if (!isObject(body)) throw new HttpError(400, "a search body is a JSON object (a SearchRequest)", "invalidSyntax");
  const text = (name: string): string | undefined => {
    const value = getAttribute(body, name);
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return value;
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join(",");
    throw new HttpError(400, `${name} must be a string or a list of strings`, "invalidValue");
  };
  const int = (name: string, fallback: number): number => {
    const value = getAttribute(body, name);
    if (value === undefined || value === null) return fallback;
    if (typeof value === "number" && Number.isInteger(value)) return value;
    return intParam(typeof value === "string" ? value : "x", name, fallback);
  };
  return {
    filter: text("filter") || undefined,
    attributes: text("attributes"),
    excludedAttributes: text("excludedAttributes"),
    startIndex: Math.max(1, int("startIndex", 1)),
    count: Math.min(MAX_RESULTS, Math.max(0, int("count", DEFAULT_COUNT))),
  };
}

/** The attribute selection of a single-resource answer (GET by id, POST, PUT, PATCH: RFC 7644 §3.9). */
export function selectionFromUrl(query: URLSearchParams): { attributes?: string; excludedAttributes?: string } {
  return { attributes: query.get("attributes") ?? undefined, excludedAttributes: query.get("excludedAttributes") ?? undefined };
}

/** Whether the selection leaves a group's members out (Entra asks excludedAttributes=members): they are costly to list. */
export function excludesMembers(q: { attributes?: string; excludedAttributes?: string }): boolean {
  const names = (s: string | undefined) => (s ?? "").toLowerCase().split(",").map((n) => n.trim()).filter(Boolean);
  const isMembers = (n: string) => n === "members" || n.endsWith(":group:members") || n.startsWith("members.");
  if (names(q.excludedAttributes).some((n) => n === "members" || n.endsWith(":group:members"))) return true;
  const included = names(q.attributes);
  return included.length > 0 && !included.some(isMembers);
}

/** Whether `filter` names `attribute` (case-insensitive), so that the resources must carry it to be matched. */
export function filterMentions(filter: Filter, attribute: string): boolean {
  switch (filter.kind) {
    case "and":
    case "or":
      return filterMentions(filter.left, attribute) || filterMentions(filter.right, attribute);
    case "not":
      return filterMentions(filter.filter, attribute);
    default:
      return filter.path.attribute.toLowerCase() === attribute.toLowerCase();
  }
}

export function listResponse(listSchema: string, matches: ScimObject[], q: QueryParameters, project: (r: ScimObject) => ScimObject) {
  const page = matches.slice(q.startIndex - 1, q.startIndex - 1 + q.count).map(project);
  return { schemas: [listSchema], totalResults: matches.length, startIndex: q.startIndex, itemsPerPage: page.length, Resources: page };
}

function intParam(raw: string | null, name: string, fallback: number): number {
  if (raw === null || raw === "") return fallback;
  if (!/^-?\d{1,9}$/.test(raw)) throw new HttpError(400, `${name} must be an integer`, "invalidValue");
  return Number(raw);
}
