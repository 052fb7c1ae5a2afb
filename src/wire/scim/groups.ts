/** SCIM Group resources ↔ Traintrack groups. */
import type { GroupRow } from "../../services/identity/index.js";
import { getAttribute, isObject, type ScimObject } from "../../services/identity/scim/index.js";
import * as v from "../validate/identity.js";
import { HttpError } from "../json-http.js";
import { GROUP_URN } from "./schemas.js";

export const MAX_MEMBERS = 10_000;

/**
 * Members carry no `display`: RFC 7643 §4.2 defines only value, $ref and type,
 * and a client compares the members it sent with those it gets back.
 */
export function groupResource(g: GroupRow, members: { id: string; userName: string }[] | undefined, base: string): ScimObject {
  const resource: ScimObject = { schemas: [GROUP_URN], id: g.id };
  if (g.externalId) resource.externalId = g.externalId;
  resource.displayName = g.displayName;
  if (members && members.length > 0) resource.members = members.map((m) => ({ value: m.id, $ref: `${base}/Users/${m.id}`, type: "User" }));
  resource.meta = {
    resourceType: "Group",
    created: g.createdAt.toISOString(),
    lastModified: g.updatedAt.toISOString(),
    location: `${base}/Groups/${g.id}`,
  };
  return resource;
}

export interface GroupInput {
  displayName: string;
  externalId: string;
  memberIds: string[];
}

/** A group as a SCIM body describes it; HttpError 400 naming what is wrong. */
export function groupInput(body: unknown): GroupInput {
  if (!isObject(body)) throw new HttpError(400, "the body must be a JSON object", "invalidSyntax");
  const displayName = getAttribute(body, "displayName");
  if (typeof displayName !== "string" || !displayName.trim()) throw new HttpError(400, "displayName is required", "invalidValue");
  const externalId = getAttribute(body, "externalId");
  if (externalId !== undefined && externalId !== null && typeof externalId !== "string") throw new HttpError(400, "externalId must be a string", "invalidValue");
  const members = getAttribute(body, "members") ?? [];
  if (!Array.isArray(members) || members.length > MAX_MEMBERS) throw new HttpError(400, `members must be a list of at most ${MAX_MEMBERS}`, "invalidValue");
  const memberIds = members.map((m, i) => {
    const value = isObject(m) ? getAttribute(m, "value") : undefined;
    if (typeof value !== "string" || !value || value.length > 64) throw new HttpError(400, `members[${i}].value must be a user id`, "invalidValue");
    return value;
  });
  return { displayName: v.groupName("displayName", displayName), externalId: v.externalId("externalId", externalId ?? ""), memberIds };
}
