/** SCIM User resources ↔ Traintrack users. */
import type { NewUser, UserRow } from "../../services/identity/index.js";
import { getAttribute, isObject, type ScimObject } from "../../services/identity/scim/index.js";
import * as v from "../validate/identity.js";
import { HttpError } from "../json-http.js";
import { USER_URN } from "./schemas.js";

const NAME_PARTS = ["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"];
const MAX_EMAILS = 20;

export function userResource(u: UserRow, groups: { id: string; displayName: string }[], base: string): ScimObject {
  const extra = u.scimAttributes;
  const resource: ScimObject = { schemas: [USER_URN], id: u.id };
  if (u.externalId) resource.externalId = u.externalId;
  resource.userName = u.userName;
  if (isObject(extra.name)) resource.name = extra.name;
  if (u.displayName) resource.displayName = u.displayName;
  const emails = Array.isArray(extra.emails) ? extra.emails : u.email ? [{ value: u.email, type: "work", primary: true }] : undefined;
  if (emails) resource.emails = emails;
  resource.active = u.active;
  if (groups.length > 0) resource.groups = groups.map((g) => ({ value: g.id, display: g.displayName, $ref: `${base}/Groups/${g.id}`, type: "direct" }));
  resource.meta = {
    resourceType: "User",
    created: u.createdAt.toISOString(),
    lastModified: u.updatedAt.toISOString(),
    location: `${base}/Users/${u.id}`,
  };
  return resource;
}

function bad(attribute: string, what: string): never {
  throw new HttpError(400, `${attribute} ${what}`, "invalidValue");
}

function optionalString(body: ScimObject, attribute: string): string | undefined {
  const value = getAttribute(body, attribute);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") bad(attribute, "must be a string");
  return value;
}

/** Entra ID sends booleans as "True" and "False". */
export function booleanOf(value: unknown, attribute: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  return bad(attribute, "must be true or false");
}

/** A user as a SCIM body (POST, PUT, or a resource after PATCH) describes it; HttpError 400 naming what is wrong. */
export function userInput(body: unknown): Omit<NewUser, "serviceAccount"> {
  if (!isObject(body)) throw new HttpError(400, "the body must be a JSON object", "invalidSyntax");
  const userName = optionalString(body, "userName");
  if (!userName) bad("userName", "is required");
  const emailsIn = getAttribute(body, "emails");
  let emails: ScimObject[] | undefined;
  if (emailsIn !== undefined && emailsIn !== null) {
    if (!Array.isArray(emailsIn) || emailsIn.length > MAX_EMAILS || !emailsIn.every(isObject)) bad("emails", `must be a list of at most ${MAX_EMAILS} objects`);
    emails = emailsIn.map((e) => {
      const value = optionalString(e, "value") ?? "";
      const out: ScimObject = { value: v.email("emails.value", value) };
      const type = optionalString(e, "type");
      if (type) out.type = v.displayName("emails.type", type);
      const display = optionalString(e, "display");
      if (display) out.display = v.displayName("emails.display", display);
      const primary = booleanOf(getAttribute(e, "primary"), "emails.primary");
      if (primary !== undefined) out.primary = primary;
      return out;
    });
  }
  const nameIn = getAttribute(body, "name");
  let name: ScimObject | undefined;
  if (nameIn !== undefined && nameIn !== null) {
    if (!isObject(nameIn)) bad("name", "must be an object");
    name = {};
    for (const part of NAME_PARTS) {
      const value = optionalString(nameIn, part);
      if (value !== undefined) name[part] = v.displayName(`name.${part}`, value);
    }
  }
  const primary = emails?.find((e) => e.primary === true) ?? emails?.[0];
  const scimAttributes: Record<string, unknown> = {};
  if (name) scimAttributes.name = name;
  if (emails) scimAttributes.emails = emails;
  return {
    userName: v.userName("userName", userName),
    displayName: v.displayName("displayName", optionalString(body, "displayName") ?? ""),
    email: typeof primary?.value === "string" ? primary.value : "",
    externalId: v.externalId("externalId", optionalString(body, "externalId") ?? ""),
    active: booleanOf(getAttribute(body, "active"), "active") ?? true,
    scimAttributes,
  };
}
