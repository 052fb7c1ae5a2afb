import { describe, expect, it } from "vitest";
import { InvalidFilterError, matchesFilter, parseFilter, type Filter } from "../../src/services/identity/scim/index.js";

const user = {
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  id: "u_1AbC",
  externalId: "Ext-9",
  userName: "Bjensen@example.com",
  displayName: "Babs Jensen",
  name: { familyName: "Jensen", givenName: "Barbara" },
  title: "",
  active: true,
  loginCount: 42,
  emails: [
    { value: "bjensen@example.com", type: "work", primary: true },
    { value: "babs@jensen.org", type: "home" },
  ],
  meta: { resourceType: "User", lastModified: "2011-05-13T04:42:34Z" },
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { employeeNumber: "701984" },
};
const group = { id: "g_1", displayName: "Admins", members: [{ value: "u_1AbC", display: "Babs" }, { value: "u_2" }] };

const matches = (filter: string, resource: Record<string, unknown> = user) => matchesFilter(resource, parseFilter(filter));

function errorOf(filter: string): InvalidFilterError {
  try {
    parseFilter(filter);
  } catch (error) {
    if (error instanceof InvalidFilterError) return error;
    throw error;
  }
  throw new Error(`filter ${filter} parsed`);
}

describe("SCIM filter parsing", () => {
  it("parses a comparison into an attribute path, operator and literal", () => {
    expect(parseFilter('userName eq "bjensen"')).toEqual({ kind: "compare", path: { attribute: "userName" }, op: "eq", value: "bjensen", position: 0 });
  });

  it("reads operator names and keywords in any case", () => {
    expect(parseFilter('userName EQ "a" AnD title Pr')).toMatchObject({ kind: "and", left: { op: "eq" }, right: { kind: "present" } });
  });

  it("splits a schema URN prefix from the attribute and sub-attribute", () => {
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O\'Malley"')).toMatchObject({
      path: { schema: "urn:ietf:params:scim:schemas:core:2.0:User", attribute: "name", subAttribute: "familyName" },
      value: "O'Malley",
    });
  });

  it("binds and tighter than or: a or b and c is a or (b and c)", () => {
    const f = parseFilter('title pr or userName eq "x" and active eq true') as Extract<Filter, { kind: "and" | "or" }>;
    expect(f.kind).toBe("or");
    expect(f.left.kind).toBe("present");
    expect(f.right.kind).toBe("and");
  });

  it("lets parentheses override precedence", () => {
    const f = parseFilter('(title pr or userName eq "x") and active eq true');
    expect(f.kind).toBe("and");
  });

  it("parses not(...) and value filters", () => {
    expect(parseFilter('not (emails[type eq "work" and value co "@x"])')).toMatchObject({
      kind: "not",
      filter: { kind: "valuePath", path: { attribute: "emails" }, filter: { kind: "and" } },
    });
  });

  it("decodes JSON string escapes, numbers and true/false/null literals", () => {
    expect(parseFilter('displayName eq "a \\"quoted\\" \\u00e9\\n"')).toMatchObject({ value: 'a "quoted" é\n' });
    expect(parseFilter("loginCount ge -1.5e2")).toMatchObject({ value: -150 });
    expect(parseFilter("active eq False")).toMatchObject({ value: false });
    expect(parseFilter("title eq null")).toMatchObject({ value: null });
  });

  it.each([
    ['userName eq "a")', "unbalanced"],
    ['(userName eq "a"', 'to close the "(" at position 0'],
    ['userName equals "a"', 'expected an operator'],
    ['userName eq "abc', "unterminated string starting at position 12"],
    ['userName eq "\\x"', "invalid string"],
    ["userName eq bjensen", "expected a value"],
    ['userName eq "a" and', "expected an attribute path"],
    ['userName eq "a" userName eq "b"', 'expected "and", "or"'],
    ["", "expected an attribute path"],
    ['emails[type eq "work"', 'to close the "["'],
    ['emails[type[value eq "x"] eq "y"]', "cannot be nested"],
    ['not userName eq "a"', '"not" takes a parenthesised filter'],
    ["active gt true", 'cannot compare with true'],
    ["loginCount co 4", "needs a string"],
    ["1userName eq 1", "expected an attribute path"],
  ])("rejects %j with a message saying %j and where", (filter, message) => {
    const error = errorOf(filter);
    expect(error.message).toContain(message);
    expect(error.message).toMatch(/position \d+/);
    expect(error.scimType).toBe("invalidFilter");
  });

  it("points at the faulty token", () => {
    expect(errorOf('userName eq "a" or title zz "b"').position).toBe(25);
  });

  it("refuses a 10,000-deep parenthesis bomb quickly, at the depth limit, without overflowing the stack", () => {
    const bomb = `${"(".repeat(10_000)}userName eq "a"${")".repeat(10_000)}`;
    expect(() => parseFilter(bomb, { maxLength: 100_000, maxDepth: 32, maxTerms: 256 })).toThrow(/nested deeper than 32/);
    expect(errorOf(`${"not(".repeat(40)}title pr${")".repeat(40)}`).message).toContain("nested deeper than 32");
  });

  it("refuses filters over the length and term limits", () => {
    expect(errorOf(`displayName eq "${"a".repeat(5000)}"`).message).toContain("the limit is 4096");
    const many = Array.from({ length: 300 }, () => "title pr").join(" or ");
    expect(errorOf(many).message).toContain("more than 256 terms");
  });

  it("accepts filters at the depth limit", () => {
    expect(() => parseFilter(`${"(".repeat(32)}title pr${")".repeat(32)}`)).not.toThrow();
  });
});

describe("SCIM filter evaluation", () => {
  it.each([
    ['userName eq "bjensen@EXAMPLE.com"', true],
    ['userName ne "bjensen@example.com"', false],
    ['userName co "JENSEN"', true],
    ['userName sw "bj"', true],
    ['userName ew ".COM"', true],
    ['userName ew ".org"', false],
    ['displayName gt "Babs"', true],
    ['displayName lt "Babs"', false],
    ['displayName ge "babs jensen"', true],
    ['displayName le "Babs Jensen"', true],
    ["loginCount gt 41", true],
    ["loginCount le 41", false],
    ["loginCount eq 42", true],
    ["title pr", false],
    ["displayName pr", true],
    ["nickName pr", false],
    ["nickName eq null", true],
    ["displayName ne null", true],
    ["active eq true", true],
    ["active eq false", false],
    ['active eq "true"', false],
  ])("%s → %s", (filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });

  it("looks attribute names up case-insensitively", () => {
    expect(matches('USERNAME eq "bjensen@example.com" and NAME.FAMILYNAME eq "jensen"')).toBe(true);
  });

  it("compares caseExact attributes (id, externalId by default) case-sensitively", () => {
    expect(matches('id eq "u_1AbC"')).toBe(true);
    expect(matches('id eq "u_1abc"')).toBe(false);
    expect(matches('externalId eq "ext-9"')).toBe(false);
    expect(matchesFilter(user, parseFilter('userName eq "bjensen@example.com"'), { caseExact: ["userName"] })).toBe(false);
  });

  it("matches a multi-valued attribute when any value matches, reading the value sub-attribute", () => {
    expect(matches('emails co "@jensen.org"')).toBe(true);
    expect(matches('emails.value eq "BJENSEN@example.com"')).toBe(true);
    expect(matches('emails.type eq "other"')).toBe(false);
    expect(matches('members eq "u_2"', group)).toBe(true);
    expect(matches('members eq "u_3"', group)).toBe(false);
    expect(matches("emails pr")).toBe(true);
  });

  it("treats ne on a multi-valued attribute as no value equal", () => {
    expect(matches('emails ne "babs@jensen.org"')).toBe(false);
    expect(matches('emails ne "other@x.org"')).toBe(true);
  });

  it("applies a value filter to each element of a multi-valued attribute", () => {
    expect(matches('emails[type eq "work" and value co "@example.com"]')).toBe(true);
    expect(matches('emails[type eq "home" and value co "@example.com"]')).toBe(false);
    expect(matches('emails[type eq "home" and not (primary eq true)]')).toBe(true);
    expect(matches('emails[primary pr] and emails[type eq "home"]')).toBe(true);
  });

  it("compares dateTimes as instants", () => {
    expect(matches('meta.lastModified gt "2011-05-13T04:42:33Z"')).toBe(true);
    expect(matches('meta.lastModified gt "2011-05-13T04:42:34Z"')).toBe(false);
    expect(matches('meta.lastModified eq "2011-05-13T04:42:34.000Z"')).toBe(true);
    expect(matches('meta.lastModified lt "2011-05-13T06:42:35+02:00"')).toBe(true);
  });

  it("finds extension attributes under their schema URN, and core attributes under the core URN", () => {
    expect(matches('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"')).toBe(true);
    expect(matches('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjensen"')).toBe(true);
  });

  it("evaluates and, or, not with the RFC's precedence", () => {
    // With or binding tighter this would be (true or true) and false = false.
    expect(matches('displayName pr or title pr and active eq false')).toBe(true);
    expect(matches('not (active eq true) or userName eq "x"')).toBe(false);
  });

  it("does not match values of another type", () => {
    expect(matches('loginCount eq "42"')).toBe(false);
    expect(matches("userName eq 42")).toBe(false);
  });
});
