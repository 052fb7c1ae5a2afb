/** The SCIM endpoints under /scim/v2: discovery, /Users and /Groups (RFC 7644 §3). */
import type { UserDirectory } from "../../services/identity/index.js";
import {
  applyPatch,
  getAttribute,
  createAttributeProjector,
  createFilterMatcher,
  type Filter,
  parseFilter,
  parsePatchRequest,
  type ScimObject,
} from "../../services/identity/scim/index.js";
import { groupInput, groupResource } from "./groups.js";
import { excludesMembers, filterMentions, listResponse, type QueryParameters, queryFromBody, queryFromUrl, selectionFromUrl } from "./search.js";
import { HttpError } from "../json-http.js";
import { LIST_SCHEMA } from "./http.js";
import { GROUP_PATCH_SCHEMA, resourceTypes, schemaDocuments, serviceProviderConfig, USER_PATCH_SCHEMA } from "./schemas.js";
import { userInput, userResource } from "./users.js";

/** Resources a filter is evaluated on in memory; an organisation with more answers 400 tooMany for filters we cannot index. */
const MAX_SCAN = 50_000;
const ALWAYS_RETURNED = ["id", "schemas", "meta"];

export interface ScimCall {
  method: string;
  /** Path segments after /scim/v2. */
  segments: string[];
  query: URLSearchParams;
  body: () => Promise<unknown>;
  orgId: string;
  base: string;
}

export interface ScimAnswer {
  status: number;
  body?: unknown;
  /** The resource changed, for the audit log ("user/u_…"). */
  resource?: string;
}

export function scimRoutes(users: UserDirectory) {
  async function userOut(orgId: string, id: string, base: string): Promise<ScimObject> {
    const user = await users.getUser(orgId, id);
    const groups = (await users.groupsOfUsers(orgId, [id])).get(id) ?? [];
    return userResource(user, groups, base);
  }

  async function groupOut(orgId: string, id: string, base: string, withMembers = true): Promise<ScimObject> {
    const group = await users.getGroup(orgId, id);
    return groupResource(group, withMembers ? await users.membersOf(orgId, id) : undefined, base);
  }

  async function listUsers(c: ScimCall, filter: Filter | undefined): Promise<ScimObject[]> {
    // Identity providers look a user up by userName before creating it: answer that from the index.
    if (filter?.kind === "compare" && filter.op === "eq" && filter.path.attribute.toLowerCase() === "username" && !filter.path.subAttribute && typeof filter.value === "string") {
      const user = await users.findUserByName(c.orgId, filter.value);
      return user ? [await userOut(c.orgId, user.id, c.base)] : [];
    }
    const rows = await users.allUsers(c.orgId, MAX_SCAN + 1);
    if (rows.length > MAX_SCAN) throw new HttpError(400, `the organisation has more than ${MAX_SCAN} users: filter by userName eq`, "tooMany");
    const groups = await users.groupsOfUsers(c.orgId, rows.map((u) => u.id));
    return rows.map((u) => userResource(u, groups.get(u.id) ?? [], c.base));
  }

  async function listGroups(c: ScimCall, withMembers: boolean): Promise<ScimObject[]> {
    const rows = await users.allGroups(c.orgId, MAX_SCAN + 1);
    if (rows.length > MAX_SCAN) throw new HttpError(400, `the organisation has more than ${MAX_SCAN} groups`, "tooMany");
    const out: ScimObject[] = [];
    for (const g of rows) out.push(groupResource(g, withMembers ? await users.membersOf(c.orgId, g.id) : undefined, c.base));
    return out;
  }

  /**
   * The resources of `kinds` that match the query's filter, in order (Users first for a search at the root).
   * Groups are read without members (one query per group) unless shown or filtered on: Entra looks a
   * group up with `excludedAttributes=members&filter=displayName eq "…"`.
   */
  async function matching(c: ScimCall, q: QueryParameters, kinds: ("Users" | "Groups")[]): Promise<ScimObject[]> {
    const filter = q.filter ? parseFilter(q.filter) : undefined;
    const all: ScimObject[] = [];
    for (const kind of kinds) {
      all.push(...(kind === "Users" ? await listUsers(c, filter) : await listGroups(c, !excludesMembers(q) || (filter !== undefined && filterMentions(filter, "members")))));
    }
    return filter ? all.filter(createFilterMatcher(filter, { caseExact: ["id", "externalId", "members.value"] })) : all;
  }

  async function list(c: ScimCall, q: QueryParameters, kinds: ("Users" | "Groups")[]): Promise<ScimAnswer> {
    const project = createAttributeProjector(q, ALWAYS_RETURNED);
    return { status: 200, body: listResponse(LIST_SCHEMA, await matching(c, q, kinds), q, project) };
  }

  /** A resource in an answer, with the attributes the URL selects (RFC 7644 §3.9). */
  function shown(c: ScimCall, resource: ScimObject): ScimObject {
    return createAttributeProjector(selectionFromUrl(c.query), ALWAYS_RETURNED)(resource);
  }

  async function search(c: ScimCall, kinds: ("Users" | "Groups")[]): Promise<ScimAnswer> {
    if (c.method !== "POST") throw notAllowed(c.method);
    return list(c, queryFromBody(await c.body()), kinds);
  }

  async function users_(c: ScimCall, id: string | undefined): Promise<ScimAnswer> {
    if (!id) {
      if (c.method === "GET") return list(c, queryFromUrl(c.query), ["Users"]);
      if (c.method === "POST") {
        const user = await users.createUser(c.orgId, { ...userInput(await c.body()), serviceAccount: false });
        return { status: 201, body: shown(c, await userOut(c.orgId, user.id, c.base)), resource: `user/${user.id}` };
      }
      throw notAllowed(c.method);
    }
    if (id === ".search") return search(c, ["Users"]);
    const resource = `user/${id}`;
    switch (c.method) {
      case "GET":
        return { status: 200, body: shown(c, await userOut(c.orgId, id, c.base)) };
      case "PUT":
        await users.getUser(c.orgId, id);
        await users.updateUser(c.orgId, id, userInput(await c.body()));
        return { status: 200, body: shown(c, await userOut(c.orgId, id, c.base)), resource };
      case "PATCH": {
        const ops = parsePatchRequest(await c.body());
        const patched = applyPatch(await userOut(c.orgId, id, c.base), ops, USER_PATCH_SCHEMA);
        // A user without `active` would read as active: removing it must not reactivate a deprovisioned user.
        if (getAttribute(patched, "active") === undefined) throw new HttpError(400, "active is required: replace it with false to deactivate the user", "invalidValue");
        await users.updateUser(c.orgId, id, userInput(patched));
        return { status: 200, body: shown(c, await userOut(c.orgId, id, c.base)), resource };
      }
      case "DELETE":
        await users.deleteUser(c.orgId, id);
        return { status: 204, resource };
      default:
        throw notAllowed(c.method);
    }
  }

  async function groups_(c: ScimCall, id: string | undefined): Promise<ScimAnswer> {
    if (!id) {
      if (c.method === "GET") return list(c, queryFromUrl(c.query), ["Groups"]);
      if (c.method === "POST") {
        const group = await users.createGroup(c.orgId, groupInput(await c.body()));
        return { status: 201, body: shown(c, await groupOut(c.orgId, group.id, c.base)), resource: `group/${group.id}` };
      }
      throw notAllowed(c.method);
    }
    if (id === ".search") return search(c, ["Groups"]);
    const resource = `group/${id}`;
    switch (c.method) {
      case "GET":
        return { status: 200, body: shown(c, await groupOut(c.orgId, id, c.base)) };
      case "PUT": {
        await users.getGroup(c.orgId, id);
        const g = groupInput(await c.body());
        await users.changeGroup(c.orgId, id, { displayName: g.displayName, externalId: g.externalId, replaceMembers: g.memberIds });
        return { status: 200, body: shown(c, await groupOut(c.orgId, id, c.base)), resource };
      }
      case "PATCH": {
        const ops = parsePatchRequest(await c.body());
        const patched = applyPatch(await groupOut(c.orgId, id, c.base), ops, GROUP_PATCH_SCHEMA);
        const g = groupInput(patched);
        await users.changeGroup(c.orgId, id, { displayName: g.displayName, externalId: g.externalId, replaceMembers: g.memberIds });
        return { status: 200, body: shown(c, await groupOut(c.orgId, id, c.base)), resource };
      }
      case "DELETE":
        await users.deleteGroup(c.orgId, id);
        return { status: 204, resource };
      default:
        throw notAllowed(c.method);
    }
  }

  function discovery(c: ScimCall, what: string, id: string | undefined): ScimAnswer {
    if (c.method !== "GET") throw notAllowed(c.method);
    if (what === "ServiceProviderConfig") return { status: 200, body: serviceProviderConfig(c.base) };
    const docs: ScimObject[] = what === "ResourceTypes" ? resourceTypes(c.base) : schemaDocuments(c.base);
    if (id) {
      const doc = docs.find((d) => d.id === id);
      if (!doc) throw new HttpError(404, `no ${what.slice(0, -1)} ${JSON.stringify(id)}`);
      return { status: 200, body: doc };
    }
    return { status: 200, body: { schemas: [LIST_SCHEMA], totalResults: docs.length, startIndex: 1, itemsPerPage: docs.length, Resources: docs } };
  }

  /** Answers one SCIM call. */
  return async function route(c: ScimCall): Promise<ScimAnswer> {
    const [what, id, ...rest] = c.segments;
    if (rest.length > 0 || what === undefined) throw new HttpError(404, "no such SCIM endpoint: use /Users, /Groups, /ServiceProviderConfig, /ResourceTypes or /Schemas");
    if (what === ".search" && !id) return search(c, ["Users", "Groups"]);
    if (what === "Users") return users_(c, id);
    if (what === "Groups") return groups_(c, id);
    if (what === "ServiceProviderConfig" && !id) return discovery(c, what, undefined);
    if (what === "ResourceTypes" || what === "Schemas") return discovery(c, what, id);
    if (what === "Bulk" || what === "Me") throw new HttpError(501, `/${what} is not supported (see /ServiceProviderConfig)`);
    throw new HttpError(404, "no such SCIM endpoint: use /Users, /Groups, /ServiceProviderConfig, /ResourceTypes or /Schemas");
  };
}

function notAllowed(method: string): HttpError {
  return new HttpError(405, `${method} is not allowed here`);
}
