import { describe, expect, it } from "vitest";
import { createAttributeProjector, projectAttributes, ScimError } from "../../src/services/identity/scim/index.js";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ALWAYS = ["id", "schemas", "meta.resourceType"];
const user = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
  id: "u_1",
  userName: "bjensen",
  displayName: "Babs",
  name: { givenName: "Barbara", familyName: "Jensen" },
  emails: [
    { value: "b@example.com", type: "work" },
    { value: "b@home.org", type: "home" },
  ],
  meta: { resourceType: "User", created: "2011-05-13T04:42:34Z", location: "https://x/Users/u_1" },
  [ENTERPRISE]: { employeeNumber: "701984", costCenter: "4130" },
};

describe("SCIM attributes and excludedAttributes (RFC 7644 §3.9)", () => {
  it("returns only the asked attributes plus those always returned", () => {
    expect(projectAttributes(user, { attributes: "userName" }, ALWAYS)).toEqual({
      schemas: user.schemas,
      id: "u_1",
      userName: "bjensen",
      meta: { resourceType: "User" },
    });
  });

  it("selects sub-attributes, in each element of a multi-valued attribute", () => {
    expect(projectAttributes(user, { attributes: "name.familyName, emails.value" }, [])).toEqual({
      name: { familyName: "Jensen" },
      emails: [{ value: "b@example.com" }, { value: "b@home.org" }],
    });
  });

  it("reads names case-insensitively and accepts URN-qualified core and extension names", () => {
    expect(projectAttributes(user, { attributes: `URN:ietf:params:scim:schemas:core:2.0:User:USERNAME,${ENTERPRISE}:employeeNumber` }, [])).toEqual({
      userName: "bjensen",
      [ENTERPRISE]: { employeeNumber: "701984" },
    });
    expect(projectAttributes(user, { attributes: ENTERPRISE }, [])).toEqual({ [ENTERPRISE]: user[ENTERPRISE] });
  });

  it("drops excluded attributes but never those always returned", () => {
    const result = projectAttributes(user, { excludedAttributes: "emails,name.givenName,meta,id" }, ALWAYS);
    expect(result).not.toHaveProperty("emails");
    expect(result.name).toEqual({ familyName: "Jensen" });
    expect(result.meta).toEqual({ resourceType: "User" });
    expect(result.id).toBe("u_1");
    expect(result.userName).toBe("bjensen");
  });

  it("excludes members of groups as Entra asks (excludedAttributes=members)", () => {
    const group = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], id: "g_1", displayName: "Admins", members: [{ value: "u_1" }] };
    expect(projectAttributes(group, { excludedAttributes: "members" }, ALWAYS)).toEqual({ schemas: group.schemas, id: "g_1", displayName: "Admins" });
  });

  it("returns the resource unchanged when neither parameter is given, and ignores unknown names", () => {
    expect(projectAttributes(user, {}, ALWAYS)).toEqual(user);
    expect(projectAttributes(user, { excludedAttributes: "favouriteColour" }, ALWAYS)).toEqual(user);
    expect(projectAttributes(user, { attributes: "favouriteColour" }, ["id"])).toEqual({ id: "u_1" });
  });

  it("never mutates the resource", () => {
    const copy = structuredClone(user);
    createAttributeProjector({ excludedAttributes: "name.givenName" }, ALWAYS)(user);
    expect(user).toEqual(copy);
  });

  it("refuses malformed names and overlong lists with invalidValue", () => {
    expect(() => projectAttributes(user, { attributes: "user name" }, [])).toThrow(ScimError);
    expect(() => projectAttributes(user, { attributes: "emails[type eq \"work\"]" }, [])).toThrow(/not an attribute name/);
    expect(() => projectAttributes(user, { attributes: Array.from({ length: 101 }, (_, i) => `a${i}`).join(",") }, [])).toThrow(/at most 100/);
  });
});
