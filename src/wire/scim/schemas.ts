/**
 * The SCIM resource types we serve, described once: the /Schemas documents
 * identity providers read, and the attribute lists PATCH checks paths against
 * are both built from these definitions.
 */
import type { ScimResourceSchema } from "../../services/identity/scim/index.js";

export const USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group";

interface Attribute {
  name: string;
  type: "string" | "boolean" | "complex" | "reference" | "dateTime";
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: "readOnly" | "readWrite" | "immutable";
  returned?: "always" | "default";
  uniqueness?: "none" | "server";
  subAttributes?: Attribute[];
  canonicalValues?: string[];
  referenceTypes?: string[];
}

const str = (name: string, more: Partial<Attribute> = {}): Attribute => ({ name, type: "string", ...more });

const USER_ATTRIBUTES: Attribute[] = [
  str("userName", { required: true, uniqueness: "server" }),
  { name: "name", type: "complex", subAttributes: [str("formatted"), str("familyName"), str("givenName"), str("middleName"), str("honorificPrefix"), str("honorificSuffix")] },
  str("displayName"),
  {
    name: "emails",
    type: "complex",
    multiValued: true,
    subAttributes: [str("value"), str("display"), str("type", { canonicalValues: ["work", "home", "other"] }), { name: "primary", type: "boolean" }],
  },
  // Required: a user without it would read as active, so it is never removed (PATCH remove answers 400).
  { name: "active", type: "boolean", required: true },
  {
    name: "groups",
    type: "complex",
    multiValued: true,
    mutability: "readOnly",
    subAttributes: [
      str("value", { mutability: "readOnly" }),
      { name: "$ref", type: "reference", referenceTypes: ["Group"], mutability: "readOnly" },
      str("display", { mutability: "readOnly" }),
      str("type", { mutability: "readOnly", canonicalValues: ["direct"] }),
    ],
  },
];

const GROUP_ATTRIBUTES: Attribute[] = [
  str("displayName", { required: true, uniqueness: "server" }),
  {
    name: "members",
    type: "complex",
    multiValued: true,
    subAttributes: [
      str("value", { mutability: "immutable", caseExact: true }),
      { name: "$ref", type: "reference", referenceTypes: ["User"], mutability: "immutable" },
      str("type", { mutability: "immutable", canonicalValues: ["User"] }),
    ],
  },
];

/** The /Schemas document of a resource type, with RFC 7643 §7's defaults spelled out. */
function schemaDocument(id: string, name: string, attributes: Attribute[], base: string) {
  const full = (a: Attribute): Record<string, unknown> => ({
    name: a.name,
    type: a.type,
    multiValued: a.multiValued ?? false,
    description: a.name,
    required: a.required ?? false,
    caseExact: a.caseExact ?? false,
    mutability: a.mutability ?? "readWrite",
    returned: a.returned ?? "default",
    uniqueness: a.uniqueness ?? "none",
    ...(a.canonicalValues ? { canonicalValues: a.canonicalValues } : {}),
    ...(a.referenceTypes ? { referenceTypes: a.referenceTypes } : {}),
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(full) } : {}),
  });
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    id,
    name,
    description: `${name} account`,
    attributes: attributes.map(full),
    meta: { resourceType: "Schema", location: `${base}/Schemas/${id}` },
  };
}

/** What PATCH may name: the attributes, their sub-attributes, and the common ones (id, externalId, meta). */
function patchSchema(coreSchema: string, attributes: Attribute[], caseExact: string[]): ScimResourceSchema {
  const names = ["id", "externalId", "meta", "schemas"];
  const multiValued: string[] = [];
  const booleans: string[] = [];
  const readOnly = ["id", "meta"];
  for (const a of attributes) {
    names.push(a.name);
    if (a.multiValued) multiValued.push(a.name);
    if (a.type === "boolean") booleans.push(a.name);
    if (a.mutability === "readOnly") readOnly.push(a.name);
    for (const s of a.subAttributes ?? []) {
      names.push(`${a.name}.${s.name}`);
      if (s.type === "boolean") booleans.push(`${a.name}.${s.name}`);
    }
  }
  return { coreSchema, attributes: names, multiValued, booleans, readOnly, caseExact };
}

export const USER_PATCH_SCHEMA = patchSchema(USER_URN, USER_ATTRIBUTES, ["id", "externalId"]);
export const GROUP_PATCH_SCHEMA = patchSchema(GROUP_URN, GROUP_ATTRIBUTES, ["id", "externalId", "members.value"]);

export const MAX_RESULTS = 1000;

export function serviceProviderConfig(base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    documentationUri: "https://github.com/traintrack/traintrack#scim",
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "API key",
        description: "An API key of scope SCIM, created by an owner, as `authorization: Bearer <key>`",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string) {
  return [
    { schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], id: "User", name: "User", endpoint: "/Users", description: "User account", schema: USER_URN, schemaExtensions: [], meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/User` } },
    { schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], id: "Group", name: "Group", endpoint: "/Groups", description: "Group", schema: GROUP_URN, schemaExtensions: [], meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/Group` } },
  ];
}

export function schemaDocuments(base: string) {
  return [schemaDocument(USER_URN, "User", USER_ATTRIBUTES, base), schemaDocument(GROUP_URN, "Group", GROUP_ATTRIBUTES, base)];
}
