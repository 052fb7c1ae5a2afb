import { describe, expect, it } from "vitest";
import { applyPatch, parsePatchRequest, ScimPatchError, type ScimObject, type ScimResourceSchema } from "../../src/services/identity/scim/index.js";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const USER_SCHEMA: ScimResourceSchema = {
  coreSchema: "urn:ietf:params:scim:schemas:core:2.0:User",
  attributes: [
    "id", "externalId", "userName", "displayName", "nickName", "title", "active", "meta", "groups",
    "name", "name.givenName", "name.familyName", "name.formatted",
    "emails", "emails.value", "emails.type", "emails.primary", "emails.display",
    `${ENTERPRISE}:employeeNumber`,
  ],
  multiValued: ["emails", "groups"],
  booleans: ["active", "emails.primary"],
  readOnly: ["id", "meta", "groups"],
};
const GROUP_SCHEMA: ScimResourceSchema = {
  coreSchema: "urn:ietf:params:scim:schemas:core:2.0:Group",
  attributes: ["id", "externalId", "displayName", "meta", "members", "members.value", "members.display", "members.$ref", "members.type"],
  multiValued: ["members"],
  booleans: [],
  readOnly: ["id", "meta"],
  caseExact: ["id", "externalId", "members.value"],
};

const user = (): ScimObject => ({
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
  id: "23a35c27-23d3-4c03-b4c5-6443c09e7173",
  userName: "test.user@okta.local",
  name: { givenName: "Another", familyName: "User" },
  emails: [{ primary: true, value: "test.user@okta.local", type: "work", display: "test.user@okta.local" }],
  active: true,
  meta: { resourceType: "User" },
});
const group = (): ScimObject => ({
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  id: "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
  displayName: "Test SCIMv2",
  members: [{ value: "89bb1940-b905-4575-9e7f-6f887cfb368e" }, { value: "f648f8d5ea4e4cd38e9c" }],
  meta: { resourceType: "Group" },
});

const patch = (resource: ScimObject, body: unknown, schema = USER_SCHEMA) => applyPatch(resource, parsePatchRequest(body), schema);
const ops = (...operations: unknown[]) => ({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: operations });

function patchError(resource: ScimObject, body: unknown, schema = USER_SCHEMA): ScimPatchError {
  try {
    patch(resource, body, schema);
  } catch (error) {
    if (error instanceof ScimPatchError) return error;
    throw error;
  }
  throw new Error("patch applied");
}

describe("SCIM PATCH: bodies Okta sends (Okta SCIM 2.0 guide)", () => {
  it("deactivates a user with a path-less replace", () => {
    const body = JSON.parse(`{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "active": false
        }
    }]
}`);
    expect(patch(user(), body)).toEqual({ ...user(), active: false });
  });

  it("renames a group with a path-less replace that repeats the unchanged id", () => {
    const body = JSON.parse(`{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
        "op": "replace",
        "value": {
            "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
            "displayName": "Test SCIMv2"
        }
    }]
}`);
    expect(patch({ ...group(), displayName: "Old" }, body, GROUP_SCHEMA)).toEqual(group());
  });

  it("removes one member by value filter and adds another in one request", () => {
    const body = JSON.parse(`{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{
          "op": "remove",
          "path": "members[value eq \\"89bb1940-b905-4575-9e7f-6f887cfb368e\\"]"
        },
        {
          "op": "add",
          "path": "members",
          "value": [{
              "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
              "display": "test.user@okta.local"
        }]
    }]
}`);
    expect(patch(group(), body, GROUP_SCHEMA).members).toEqual([
      { value: "f648f8d5ea4e4cd38e9c" },
      { value: "23a35c27-23d3-4c03-b4c5-6443c09e7173", display: "test.user@okta.local" },
    ]);
  });
});

describe("SCIM PATCH: bodies Microsoft Entra ID sends", () => {
  it("applies capitalised Replace ops on a filtered email and a sub-attribute (Entra tutorial)", () => {
    const body = JSON.parse(`{
	"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	"Operations": [
            {
    		"op": "Replace",
    		"path": "emails[type eq \\"work\\"].value",
    		"value": "updatedEmail@microsoft.com"
    	    },
    	    {
    		"op": "Replace",
    		"path": "name.familyName",
    		"value": "updatedFamilyName"
    	    }
	]
}`);
    const result = patch(user(), body);
    expect(result.emails).toEqual([{ primary: true, value: "updatedEmail@microsoft.com", type: "work", display: "test.user@okta.local" }]);
    expect(result.name).toEqual({ givenName: "Another", familyName: "updatedFamilyName" });
  });

  it("disables a user sent the string \"False\", and enables one sent \"True\"", () => {
    const body = JSON.parse(`{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": "False"
        }
    ]
}`);
    expect(patch(user(), body).active).toBe(false);
    expect(patch({ ...user(), active: false }, ops({ op: "Replace", path: "active", value: "True" })).active).toBe(true);
    expect(patch(user(), ops({ op: "replace", value: { active: "false" } })).active).toBe(false);
  });

  it("disables a user with a boolean (Entra tutorial, Disable User)", () => {
    const body = JSON.parse(`{
    "Operations": [
        {
            "op": "Replace",
            "path": "active",
            "value": false
        }
    ],
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ]
}`);
    expect(patch(user(), body).active).toBe(false);
  });

  it("adds and removes group members listed in value under path members (Entra tutorial)", () => {
    const add = JSON.parse(`{
	"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	"Operations": [{
		"op": "Add",
		"path": "members",
		"value": [{
			"$ref": null,
			"value": "f648f8d5ea4e4cd38e9c"
		}]
	}]
}`);
    const remove = JSON.parse(JSON.stringify(add).replace('"Add"', '"Remove"'));
    const empty = { ...group(), members: [] };
    const added = patch(empty, add, GROUP_SCHEMA);
    expect(added.members).toEqual([{ value: "f648f8d5ea4e4cd38e9c" }]);
    expect(patch(group(), add, GROUP_SCHEMA).members).toEqual(group().members);
    expect(patch(group(), remove, GROUP_SCHEMA).members).toEqual([{ value: "89bb1940-b905-4575-9e7f-6f887cfb368e" }]);
    expect(patch(added, remove, GROUP_SCHEMA)).not.toHaveProperty("members");
  });

  it("creates the work email when Add targets a filtered email that does not exist yet", () => {
    const body = { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "Replace", path: "title", value: "tester" }, { op: "Add", path: 'emails[type eq "work"].value', value: "new@joe.com" }] };
    const result = patch({ ...user(), emails: [{ value: "h@home.org", type: "home" }] }, body);
    expect(result.emails).toEqual([{ value: "h@home.org", type: "home" }, { type: "work", value: "new@joe.com" }]);
    expect(result.title).toBe("tester");
  });
});

describe("SCIM PATCH semantics (RFC 7644 §3.5.2)", () => {
  it("never mutates the resource or keeps references to the request", () => {
    const original = user();
    const snapshot = structuredClone(original);
    const body = ops({ op: "add", path: "emails", value: [{ value: "x@y.z", type: "home" }] });
    const result = patch(original, body);
    expect(original).toEqual(snapshot);
    (body.Operations[0] as { value: { value: string }[] }).value[0]!.value = "changed";
    expect((result.emails as { value: string }[])[1]!.value).toBe("x@y.z");
  });

  it("add sets a simple attribute, merges a complex one and appends to a multi-valued one", () => {
    const result = patch(user(), ops(
      { op: "add", path: "nickName", value: "Babs" },
      { op: "add", path: "name", value: { formatted: "A User" } },
      { op: "add", path: "emails", value: [{ value: "b@c.d", type: "home", primary: "False" }] },
    ));
    expect(result.nickName).toBe("Babs");
    expect(result.name).toEqual({ givenName: "Another", familyName: "User", formatted: "A User" });
    expect((result.emails as unknown[])[1]).toEqual({ value: "b@c.d", type: "home", primary: false });
  });

  it("replace without path replaces a multi-valued attribute wholesale and merges sub-attributes of a complex one", () => {
    const result = patch(user(), ops({ op: "replace", value: { emails: [{ value: "only@x.y" }], name: { givenName: "New" } } }));
    expect(result.emails).toEqual([{ value: "only@x.y" }]);
    expect(result.name).toEqual({ givenName: "New", familyName: "User" });
  });

  it("path-less values may use dotted and URN-qualified names and extension objects", () => {
    const result = patch(user(), ops({
      op: "add",
      value: {
        "name.givenName": "Dotted",
        "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Qualified",
        [ENTERPRISE]: { employeeNumber: "701984" },
      },
    }));
    expect(result.name).toMatchObject({ givenName: "Dotted" });
    expect(result.displayName).toBe("Qualified");
    expect(result[ENTERPRISE]).toEqual({ employeeNumber: "701984" });
    expect(result.schemas).toContain(ENTERPRISE);
  });

  it("names attributes case-insensitively and keeps the resource's spelling", () => {
    const result = patch(user(), ops({ op: "replace", path: "USERNAME", value: "x" }, { op: "replace", path: "Name.GivenName", value: "G" }));
    expect(result.userName).toBe("x");
    expect(result).not.toHaveProperty("USERNAME");
    expect(result.name).toMatchObject({ givenName: "G" });
  });

  it("remove deletes an attribute, a sub-attribute, or the values a filter matches", () => {
    const r1 = patch(user(), ops({ op: "remove", path: "name.familyName" }, { op: "remove", path: "nickName" }));
    expect(r1.name).toEqual({ givenName: "Another" });
    const r2 = patch(user(), ops({ op: "remove", path: 'emails[type eq "work"]' }));
    expect(r2).not.toHaveProperty("emails");
    const r3 = patch(user(), ops({ op: "remove", path: 'emails[type eq "work"].display' }));
    expect(r3.emails).toEqual([{ primary: true, value: "test.user@okta.local", type: "work" }]);
    expect(patch(group(), ops({ op: "remove", path: "members" }), GROUP_SCHEMA)).not.toHaveProperty("members");
  });

  it("replace of a filtered value puts the new value in place", () => {
    const result = patch(user(), ops({ op: "replace", path: 'emails[type eq "work"]', value: { value: "w@x.y", type: "work" } }));
    expect(result.emails).toEqual([{ value: "w@x.y", type: "work" }]);
  });

  it("replace null unassigns; adding an existing member changes nothing", () => {
    expect(patch(user(), ops({ op: "replace", path: "name", value: null }))).not.toHaveProperty("name");
    expect(patch(group(), ops({ op: "add", path: "members", value: [{ value: "f648f8d5ea4e4cd38e9c" }] }), GROUP_SCHEMA)).toEqual(group());
  });

  it("adds each member once even when the request repeats it", () => {
    const body = ops({ op: "add", path: "members", value: [{ value: "u_9" }, { value: "u_9", display: "again" }, { value: "f648f8d5ea4e4cd38e9c" }] });
    expect(patch(group(), body, GROUP_SCHEMA).members).toEqual([...(group().members as unknown[]), { value: "u_9" }]);
  });

  it("matches member ids case-sensitively when the schema says caseExact", () => {
    const error = patchError(group(), ops({ op: "remove", path: 'members[value eq "F648F8D5EA4E4CD38E9C"]' }), GROUP_SCHEMA);
    expect(error.scimType).toBe("noTarget");
  });
});

describe("SCIM PATCH errors", () => {
  it.each([
    ["an unknown op", ops({ op: "move", path: "title", value: "x" }), "invalidSyntax", '"add", "replace" or "remove"'],
    ["a missing value", ops({ op: "add", path: "title" }), "invalidValue", 'needs a "value"'],
    ["remove without path", ops({ op: "remove" }), "noTarget", 'needs a "path"'],
    ["an unknown attribute", ops({ op: "replace", path: "favouriteColour", value: "x" }), "invalidPath", "not an attribute"],
    ["an unknown sub-attribute", ops({ op: "replace", path: "name.nick", value: "x" }), "invalidPath", 'no sub-attribute "nick"'],
    ["an unknown schema", ops({ op: "replace", path: "urn:example:Other:title", value: "x" }), "invalidPath", "not a schema"],
    ["a malformed path", ops({ op: "remove", path: 'emails[type eq "work"' }), "invalidPath", 'to close the "["'],
    ["a filter on a single-valued attribute", ops({ op: "remove", path: 'name[givenName eq "x"]' }), "invalidPath", "single-valued"],
    ["a filter that matches nothing", ops({ op: "replace", path: 'emails[type eq "home"].value', value: "x" }), "noTarget", "matches no value"],
    ["a change to id", ops({ op: "replace", path: "id", value: "other" }), "mutability", "read-only"],
    ["a path-less change to meta", ops({ op: "replace", value: { meta: { resourceType: "Group" } } }), "mutability", "read-only"],
    ["a non-boolean active", ops({ op: "replace", path: "active", value: "yes" }), "invalidValue", "boolean"],
    ["an object for a simple attribute", ops({ op: "replace", path: "userName", value: { a: 1 } }), "invalidValue", "simple value"],
    ["an array for a single-valued attribute", ops({ op: "replace", path: "userName", value: ["a"] }), "invalidValue", "not an array"],
    ["a path-less value that is not an object", ops({ op: "replace", value: "x" }), "invalidValue", "must be an object"],
    ["a body without Operations", { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"] }, "invalidSyntax", '"Operations"'],
    ["a body of another schema", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], Operations: [] }, "invalidSyntax", "PatchOp"],
  ])("refuses %s", (_, body, scimType, message) => {
    const error = patchError(user(), body);
    expect(error.scimType).toBe(scimType);
    expect(error.message).toContain(message);
  });

  it("bounds the number of operations and the size of value arrays", () => {
    const many = ops(...Array.from({ length: 1001 }, () => ({ op: "replace", path: "title", value: "x" })));
    expect(() => parsePatchRequest(many)).toThrow(/at most 1000 operations/);
    const big = ops({ op: "add", path: "members", value: Array.from({ length: 1001 }, (_, i) => ({ value: `u_${i}` })) });
    expect(() => parsePatchRequest(big)).toThrow(/at most 1000 per operation/);
    const deep = ops({ op: "add", path: "title", value: JSON.parse(`${"[".repeat(5000)}${"]".repeat(5000)}`) });
    expect(() => parsePatchRequest(deep)).toThrow(/nested deeper/);
  });

  it("says which operation failed", () => {
    const error = patchError(user(), ops({ op: "replace", path: "title", value: "x" }, { op: "replace", path: "nope", value: "x" }));
    expect(error.operationIndex).toBe(1);
    expect(error.message).toContain("Operations[1]");
  });

  it("cannot be steered into the prototype", () => {
    const body = JSON.parse('{"Operations":[{"op":"add","value":{"__proto__":{"polluted":true}}}]}');
    expect(patchError(user(), body).scimType).toBe("invalidPath");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
