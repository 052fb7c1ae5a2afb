/**
 * SCIM 2.0 under /scim/v2 as identity providers drive it, over raw HTTP: an
 * RFC 7644 client, Okta (its connection test, path-less PATCH) and Entra ID
 * (capitalised ops, string booleans), on both backends. Filters are covered
 * here because the compliance tool (sdk/python/tests/test_scim_compliance.py)
 * has no filter checker; so are deprovisioning, group-driven access, auth,
 * isolation between organisations, bad input and the audit log.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyScope } from "../../gen/traintrack/v1/api_key_pb.js";
import { AuditService } from "../../gen/traintrack/v1/audit_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { createKey, ERROR_URN, filterQuery, GROUP_URN, LIST_URN, type ScimClient, scimClient, scimKey, USER_URN } from "../support/scim.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";

async function codeOf(promise: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

let serial = 0;
const unique = (prefix: string) => `${prefix}${++serial}-${Math.random().toString(36).slice(2, 8)}`;

describe.each(backends())("SCIM 2.0 on $name", (backend) => {
  let server: TestServer;
  let scim: ScimClient;

  beforeAll(async () => {
    server = await startTestServer(backend.name);
    scim = scimClient(server, await scimKey(server));
  });
  afterAll(async () => server?.close());

  /** Creates a user over SCIM and returns its resource. */
  async function newUser(fields: Record<string, unknown> = {}) {
    const userName = (fields.userName as string) ?? `${unique("user")}@example.com`;
    const res = await scim.post("/Users", { schemas: [USER_URN], userName, active: true, ...fields });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  async function newGroup(displayName = unique("group"), members: string[] = []) {
    const res = await scim.post("/Groups", { schemas: [GROUP_URN], displayName, members: members.map((value) => ({ value })) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  const ids = (res: { body: { Resources: { id: string }[] } }) => res.body.Resources.map((r) => r.id).sort();

  describe.skipIf(!backend.available)("", () => {
    it("publishes ServiceProviderConfig, ResourceTypes and Schemas as application/scim+json", async () => {
      const config = await scim.get("/ServiceProviderConfig");
      expect(config.status).toBe(200);
      expect(config.contentType).toMatch(/^application\/scim\+json/);
      expect(config.body.patch.supported).toBe(true);
      expect(config.body.filter.supported).toBe(true);
      expect(config.body.bulk.supported).toBe(false);

      const types = await scim.get("/ResourceTypes");
      expect(types.body.schemas).toEqual([LIST_URN]);
      expect(types.body.Resources.map((t: { endpoint: string }) => t.endpoint).sort()).toEqual(["/Groups", "/Users"]);
      expect((await scim.get("/ResourceTypes/User")).body.schema).toBe(USER_URN);

      const schemas = await scim.get("/Schemas");
      expect(schemas.body.Resources.map((s: { id: string }) => s.id).sort()).toEqual([GROUP_URN, USER_URN]);
      const user = (await scim.get(`/Schemas/${USER_URN}`)).body;
      expect(user.attributes.find((a: { name: string }) => a.name === "userName")).toMatchObject({ required: true, uniqueness: "server" });
      expect((await scim.get("/Schemas/urn:nope")).status).toBe(404);
    });

    it("creates a user whose SCIM id is its gRPC id, and refuses a duplicate userName whatever its case (409 uniqueness)", async () => {
      const created = await newUser({
        userName: "Alice.Smith@Example.com",
        externalId: "okta-00u1",
        displayName: "Alice Smith",
        name: { givenName: "Alice", familyName: "Smith" },
        emails: [{ value: "alice@example.com", type: "work", primary: true }],
      });
      expect(created.schemas).toEqual([USER_URN]);
      expect(created.meta).toMatchObject({ resourceType: "User", location: expect.stringContaining(`/scim/v2/Users/${created.id}`) });

      const got = await scim.get(`/Users/${created.id}`);
      expect(got.status).toBe(200);
      expect(got.contentType).toMatch(/^application\/scim\+json/);
      expect(got.body).toMatchObject({ id: created.id, userName: "Alice.Smith@Example.com", externalId: "okta-00u1", displayName: "Alice Smith", active: true });
      expect(got.body.name).toMatchObject({ givenName: "Alice", familyName: "Smith" });

      const grpc = await server.client(UserService).getUser({ id: created.id });
      expect(grpc.user).toMatchObject({ id: created.id, userName: "Alice.Smith@Example.com", displayName: "Alice Smith", email: "alice@example.com", externalId: "okta-00u1", active: true });

      const dup = await scim.post("/Users", { schemas: [USER_URN], userName: "alice.smith@example.COM" });
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ schemas: [ERROR_URN], status: "409", scimType: "uniqueness" });
    });

    it("filters users with eq, co, sw, pr, and, or on userName, externalId, displayName, emails and active", async () => {
      const tag = unique("f");
      const ann = await newUser({ userName: `ann.${tag}@corp.example`, externalId: `ext-ann-${tag}`, displayName: `Ann ${tag}`, emails: [{ value: `ann.${tag}@mail.example`, primary: true }] });
      const bob = await newUser({ userName: `bob.${tag}@corp.example`, externalId: `ext-bob-${tag}`, displayName: `Bob ${tag}`, active: false });
      const cat = await newUser({ userName: `cat.${tag}@other.example`, displayName: `Cat ${tag}`, emails: [{ value: `cat.${tag}@mail.example` }] });
      const mine = (f: string) => scim.get(`/Users${filterQuery(`(${f}) and userName co "${tag}"`)}`);
      const expectIds = async (f: string, want: { id: string }[]) => {
        const res = await mine(f);
        expect(res.status, `${f}: ${JSON.stringify(res.body)}`).toBe(200);
        expect(ids(res), f).toEqual(want.map((u) => u.id).sort());
      };

      // Identity providers' lookup before a create: case-insensitive on userName.
      const byName = await scim.get(`/Users${filterQuery(`userName eq "ANN.${tag.toUpperCase()}@corp.example"`)}`);
      expect(ids(byName)).toEqual([ann.id]);
      expect(byName.body).toMatchObject({ schemas: [LIST_URN], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
      await expectIds(`externalId eq "ext-bob-${tag}"`, [bob]);
      await expectIds(`displayName sw "Cat"`, [cat]);
      await expectIds(`userName co "@corp.example"`, [ann, bob]);
      await expectIds(`userName sw "bob"`, [bob]);
      await expectIds(`externalId pr`, [ann, bob]);
      await expectIds(`emails co "@mail.example"`, [ann, cat]);
      await expectIds(`emails.value eq "cat.${tag}@mail.example"`, [cat]);
      await expectIds(`emails[value sw "ann"]`, [ann]);
      await expectIds(`active eq false`, [bob]);
      await expectIds(`active eq true and userName sw "ann"`, [ann]);
      await expectIds(`displayName sw "Ann" or displayName sw "Cat"`, [ann, cat]);
      await expectIds(`not (active eq true)`, [bob]);
      expect((await scim.get(`/Users${filterQuery(`userName eq "nobody.${tag}"`)}`)).body).toMatchObject({ totalResults: 0, Resources: [] });
    });

    it("filters groups on displayName and members (members eq / members.value eq)", async () => {
      const tag = unique("g");
      const u1 = await newUser();
      const u2 = await newUser();
      const a = await newGroup(`Engineering ${tag}`, [u1.id]);
      const b = await newGroup(`Sales ${tag}`, [u1.id, u2.id]);
      const c = await newGroup(`Empty ${tag}`);
      const find = async (f: string) => ids(await scim.get(`/Groups${filterQuery(f)}`));
      expect(await find(`displayName eq "engineering ${tag}"`)).toEqual([a.id]);
      expect(await find(`members eq "${u2.id}"`)).toEqual([b.id]);
      expect(await find(`members.value eq "${u1.id}"`)).toEqual([a.id, b.id].sort());
      expect(await find(`displayName co "${tag}" and not (members pr)`)).toEqual([c.id]);
      expect(await find(`displayName sw "Sales" or displayName sw "Empty"`)).toEqual([b.id, c.id].sort());
      // Entra reads groups without their members.
      const slim = await scim.get(`/Groups${filterQuery(`displayName eq "Sales ${tag}"`, "&excludedAttributes=members")}`);
      expect(slim.body.Resources[0].members).toBeUndefined();
      expect(slim.body.Resources[0].displayName).toBe(`Sales ${tag}`);
    });

    it("answers malformed filters with 400 invalidFilter, and a deeply nested one at once", async () => {
      for (const bad of ['userName eq', 'userName zz "a"', '(userName eq "a"', 'userName eq "a" and', '"a" eq userName', 'emails[value eq "a"', 'userName eq "unterminated']) {
        const res = await scim.get(`/Users${filterQuery(bad)}`);
        expect(res.status, bad).toBe(400);
        expect(res.body, bad).toMatchObject({ schemas: [ERROR_URN], status: "400", scimType: "invalidFilter" });
      }
      const deep = `${"(".repeat(5000)}userName eq "a"${")".repeat(5000)}`;
      const nested = await scim.request("POST", "/Users/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], filter: deep });
      expect(nested.status).toBe(400);
      expect(nested.body.scimType).toBe("invalidFilter");
      const notNot = `${"not (".repeat(300)}active eq true${")".repeat(300)}`;
      expect((await scim.get(`/Users${filterQuery(notNot)}`)).body.scimType).toBe("invalidFilter");
    });

    it("pages with startIndex and count, and answers Okta's connection test", async () => {
      const tag = unique("p");
      for (let i = 0; i < 5; i++) await newUser({ userName: `${tag}-${i}@example.com` });
      const q = (more: string) => scim.get(`/Users${filterQuery(`userName sw "${tag}-"`, more)}`);
      const first = await q("&startIndex=1&count=2");
      expect(first.body).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 2 });
      const second = await q("&startIndex=3&count=2");
      const third = await q("&startIndex=5&count=2");
      expect(third.body).toMatchObject({ totalResults: 5, startIndex: 5, itemsPerPage: 1 });
      const all = [...first.body.Resources, ...second.body.Resources, ...third.body.Resources].map((r: { userName: string }) => r.userName);
      expect(new Set(all).size).toBe(5);
      expect((await q("&startIndex=9&count=2")).body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
      expect((await q("&count=0")).body).toMatchObject({ totalResults: 5, itemsPerPage: 0 });
      expect((await q("&startIndex=abc")).status).toBe(400);

      // Okta: GET /Users?startIndex=1&count=2 must answer 200 with a ListResponse.
      const okta = await scim.get("/Users?startIndex=1&count=2");
      expect(okta.status).toBe(200);
      expect(okta.body.schemas).toEqual([LIST_URN]);
      expect(okta.body.itemsPerPage).toBe(2);
      expect(okta.body.totalResults).toBeGreaterThanOrEqual(6);
    });

    it("returns only the attributes asked for (attributes / excludedAttributes), id always", async () => {
      const user = await newUser({ displayName: "Projected", emails: [{ value: "p@example.com", type: "work" }] });
      const only = await scim.get(`/Users/${user.id}?attributes=userName,emails.value`);
      expect(Object.keys(only.body).sort()).toEqual(["emails", "id", "meta", "schemas", "userName"]);
      expect(only.body.emails).toEqual([{ value: "p@example.com" }]);
      const without = await scim.get(`/Users${filterQuery(`userName eq "${user.userName}"`, "&excludedAttributes=emails,displayName")}`);
      expect(without.body.Resources[0].emails).toBeUndefined();
      expect(without.body.Resources[0].displayName).toBeUndefined();
      expect(without.body.Resources[0]).toMatchObject({ id: user.id, userName: user.userName });
    });

    it("searches with POST /.search (per resource type and at the root), which is a read", async () => {
      const tag = unique("s");
      const user = await newUser({ userName: `${tag}@example.com`, displayName: `Searched ${tag}` });
      const group = await newGroup(`Searched ${tag}`, [user.id]);
      const search = (path: string, body: Record<string, unknown>) => scim.request("POST", path, { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], ...body });
      const users = await search("/Users/.search", { filter: `userName eq "${tag}@example.com"`, attributes: ["userName"] });
      expect(users.status).toBe(200);
      expect(users.body.Resources).toEqual([{ schemas: [USER_URN], id: user.id, userName: `${tag}@example.com`, meta: expect.any(Object) }]);
      const groups = await search("/Groups/.search", { filter: `members eq "${user.id}"`, excludedAttributes: ["members"] });
      expect(ids(groups)).toEqual([group.id]);
      expect(groups.body.Resources[0].members).toBeUndefined();
      const both = await search("/.search", { filter: `displayName eq "Searched ${tag}"`, startIndex: 1, count: 10 });
      expect(ids(both)).toEqual([user.id, group.id].sort());
      expect((await search("/Users/.search", { filter: "userName eq" })).body.scimType).toBe("invalidFilter");
      expect((await scim.get("/Users/.search")).status).toBe(405);
      const audited = await server.client(AuditService).listAuditEvents({ resource: "user/", pageSize: 1000 });
      expect(audited.events.some((e) => e.resource.includes(".search"))).toBe(false);
    });

    it("replaces a user with PUT", async () => {
      const user = await newUser({ displayName: "Before", externalId: "e-put" });
      const put = await scim.put(`/Users/${user.id}`, { schemas: [USER_URN], userName: user.userName, displayName: "After", active: true });
      expect(put.status).toBe(200);
      expect(put.body.displayName).toBe("After");
      expect(put.body.externalId).toBeUndefined();
      expect((await server.client(UserService).getUser({ id: user.id })).user?.displayName).toBe("After");
      expect((await scim.put("/Users/u_doesnotexist", { schemas: [USER_URN], userName: "x" })).status).toBe(404);
    });

    it("patches users: add, replace, remove with and without path; Okta's path-less replace; Entra's 'Replace' and \"False\"", async () => {
      const user = await newUser({ displayName: "Patchy" });
      const path = `/Users/${user.id}`;
      let res = await scim.patch(path, { op: "add", path: "externalId", value: "ext-patch" }, { op: "replace", path: "displayName", value: "Patched" });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ externalId: "ext-patch", displayName: "Patched" });
      res = await scim.patch(path, { op: "add", value: { emails: [{ value: "patch@example.com", type: "work", primary: true }] } });
      expect(res.body.emails).toEqual([{ value: "patch@example.com", type: "work", primary: true }]);
      res = await scim.patch(path, { op: "replace", path: 'emails[type eq "work"].value', value: "patch2@example.com" });
      expect(res.body.emails[0].value).toBe("patch2@example.com");
      // Entra adds an email through a filtered path before any exists: the filter's equalities describe it.
      const bare = await newUser();
      const entra = await scim.patch(`/Users/${bare.id}`, { op: "Add", path: 'emails[type eq "work"].value', value: "entra@example.com" });
      expect(entra.status, JSON.stringify(entra.body)).toBe(200);
      expect(entra.body.emails).toEqual([{ type: "work", value: "entra@example.com" }]);
      expect((await server.client(UserService).getUser({ id: bare.id })).user?.email).toBe("entra@example.com");
      res = await scim.patch(path, { op: "remove", path: "externalId" });
      expect(res.body.externalId).toBeUndefined();
      res = await scim.patch(path, { op: "replace", value: { displayName: "No Path", "name.givenName": "Given" } });
      expect(res.body).toMatchObject({ displayName: "No Path", name: { givenName: "Given" } });

      // Okta deactivates with a path-less replace.
      res = await scim.patch(path, { op: "replace", value: { active: false } });
      expect(res.status).toBe(200);
      expect(res.body.active).toBe(false);
      // Entra: capitalised op, string boolean.
      res = await scim.patch(path, { op: "Replace", path: "active", value: "True" });
      expect(res.body.active).toBe(true);
      res = await scim.patch(path, { op: "Replace", path: "active", value: "False" });
      expect(res.body.active).toBe(false);
      expect((await server.client(UserService).getUser({ id: user.id })).user?.active).toBe(false);

      const nowhere = await scim.patch(path, { op: "replace", path: "favouriteColour", value: "blue" });
      expect(nowhere.status).toBe(400);
      expect(nowhere.body).toMatchObject({ schemas: [ERROR_URN], scimType: "invalidPath" });
      expect((await scim.patch(path, { op: "add", path: "name.nickname", value: "x" })).body.scimType).toBe("invalidPath");
      expect((await scim.patch(path, { op: "frobnicate", path: "active", value: true })).status).toBe(400);
      expect((await scim.patch(path, { op: "replace", path: "id", value: "u_other" })).body.scimType).toBe("mutability");
      expect((await scim.patch(path, { op: "remove", path: "active" })).status).toBe(400);
    });

    it("patches groups: add members, remove members[value eq …], rename; PUT replaces members; DELETE answers 404 after", async () => {
      const [u1, u2, u3] = [await newUser(), await newUser(), await newUser()];
      const group = await newGroup(undefined, [u1.id]);
      const path = `/Groups/${group.id}`;
      let res = await scim.patch(path, { op: "Add", path: "members", value: [{ value: u2.id }, { value: u3.id }] });
      expect(res.status).toBe(200);
      expect(res.body.members.map((m: { value: string }) => m.value).sort()).toEqual([u1.id, u2.id, u3.id].sort());
      res = await scim.patch(path, { op: "remove", path: `members[value eq "${u2.id}"]` });
      expect(res.body.members.map((m: { value: string }) => m.value).sort()).toEqual([u1.id, u3.id].sort());
      // Entra removes with a value list, Okta renames with the id alongside.
      res = await scim.patch(path, { op: "Remove", path: "members", value: [{ value: u3.id }] });
      expect(res.body.members.map((m: { value: string }) => m.value)).toEqual([u1.id]);
      res = await scim.patch(path, { op: "replace", value: { id: group.id, displayName: `${group.displayName}-renamed` } });
      expect(res.body.displayName).toBe(`${group.displayName}-renamed`);
      expect((await server.client(UserService).listUsers({ groupId: group.id, pageSize: 10 })).users.map((u) => u.id)).toEqual([u1.id]);

      res = await scim.put(path, { schemas: [GROUP_URN], displayName: "Replaced", members: [{ value: u2.id }] });
      expect(res.body.members.map((m: { value: string }) => m.value)).toEqual([u2.id]);
      expect((await scim.patch(path, { op: "add", path: "members", value: [{ value: "u_nobody" }] })).status).toBe(404);
      const dupGroup = await scim.post("/Groups", { schemas: [GROUP_URN], displayName: "replaced" });
      expect(dupGroup.status).toBe(409);
      expect(dupGroup.body.scimType).toBe("uniqueness");
      expect((await scim.patch(path, { op: "replace", path: "owner", value: "x" })).body.scimType).toBe("invalidPath");

      expect((await scim.delete(path)).status).toBe(204);
      expect((await scim.get(path)).status).toBe(404);
      expect((await scim.delete(path)).status).toBe(404);

      expect((await scim.delete(`/Users/${u3.id}`)).status).toBe(204);
      const gone = await scim.get(`/Users/${u3.id}`);
      expect(gone.status).toBe(404);
      expect(gone.body).toMatchObject({ schemas: [ERROR_URN], status: "404" });
    });

    it("deprovisioning (active false, or DELETE) makes the user's keys UNAUTHENTICATED at once", async () => {
      for (const how of ["okta-patch", "entra-patch", "delete"] as const) {
        const user = await newUser();
        await server.client(AccessService).grantRole({ role: Role.VIEWER, userId: user.id });
        const key = await createKey(server, ApiKeyScope.ALL, { userId: user.id });
        const asUser = server.client(DatasetService, "grpc", key);
        expect(await codeOf(asUser.listDatasets({})), how).toBe("ok");
        const res =
          how === "delete"
            ? await scim.delete(`/Users/${user.id}`)
            : await scim.patch(`/Users/${user.id}`, how === "okta-patch" ? { op: "replace", value: { active: false } } : { op: "Replace", path: "active", value: "False" });
        expect(res.status, how).toBeLessThan(300);
        expect(await codeOf(asUser.listDatasets({})), how).toBe(Code.Unauthenticated);
        expect(await codeOf(server.client(DatasetService, "connectH1", key).listDatasets({})), how).toBe(Code.Unauthenticated);
      }
    });

    it("SCIM group membership drives access granted to the group", async () => {
      const user = await newUser();
      const key = await createKey(server, ApiKeyScope.ALL, { userId: user.id });
      const asUser = server.client(DatasetService, "grpc", key);
      const group = await newGroup();
      await server.client(AccessService).grantRole({ role: Role.VIEWER, groupId: group.id });
      expect(await codeOf(asUser.listDatasets({}))).toBe(Code.PermissionDenied);

      expect((await scim.patch(`/Groups/${group.id}`, { op: "add", path: "members", value: [{ value: user.id }] })).status).toBe(200);
      expect(await codeOf(asUser.listDatasets({}))).toBe("ok");

      expect((await scim.patch(`/Groups/${group.id}`, { op: "remove", path: `members[value eq "${user.id}"]` })).status).toBe(200);
      expect(await codeOf(asUser.listDatasets({}))).toBe(Code.PermissionDenied);
    });

    it("refuses to deprovision or delete the organisation's last owner", async () => {
      const owner = (await server.client(AccessService).whoAmI({})).user?.id as string;
      for (const res of [
        await scim.patch(`/Users/${owner}`, { op: "replace", value: { active: false } }),
        await scim.patch(`/Users/${owner}`, { op: "Replace", path: "active", value: "False" }),
        await scim.put(`/Users/${owner}`, { schemas: [USER_URN], userName: (await scim.get(`/Users/${owner}`)).body.userName, active: false }),
        await scim.delete(`/Users/${owner}`),
      ]) {
        expect([400, 409]).toContain(res.status);
        expect(res.body.schemas).toEqual([ERROR_URN]);
        expect(res.body.detail).toMatch(/owner/);
      }
      expect((await server.client(UserService).getUser({ id: owner })).user?.active).toBe(true);
      expect(await codeOf(server.client(DatasetService).listDatasets({}))).toBe("ok");
    });

    it("refuses to demote the last owner whose ownership comes from a SCIM group", async () => {
      // A fresh organisation, whose first owner steps down in favour of a group-made owner.
      const firstOwnerKey = await server.newOrganization("owners");
      const firstScim = scimClient(server, await scimKey(server, firstOwnerKey));
      const heir = (await firstScim.post("/Users", { schemas: [USER_URN], userName: "heir@example.com" })).body;
      const owners = (await firstScim.post("/Groups", { schemas: [GROUP_URN], displayName: "Owners", members: [{ value: heir.id }] })).body;
      await server.client(AccessService, "grpc", firstOwnerKey).grantRole({ role: Role.OWNER, groupId: owners.id });
      const heirScim = scimClient(server, await createKey(server, ApiKeyScope.SCIM, { userId: heir.id, ownerKey: firstOwnerKey }));
      const firstOwner = (await server.client(AccessService, "grpc", firstOwnerKey).whoAmI({})).user?.id as string;
      expect((await heirScim.patch(`/Users/${firstOwner}`, { op: "replace", value: { active: false } })).status).toBe(200);

      for (const res of [
        await heirScim.patch(`/Groups/${owners.id}`, { op: "remove", path: `members[value eq "${heir.id}"]` }),
        await heirScim.patch(`/Groups/${owners.id}`, { op: "replace", path: "members", value: [] }),
        await heirScim.put(`/Groups/${owners.id}`, { schemas: [GROUP_URN], displayName: "Owners" }),
        await heirScim.delete(`/Groups/${owners.id}`),
        await heirScim.delete(`/Users/${heir.id}`),
      ]) {
        expect([400, 409]).toContain(res.status);
        expect(res.body.detail).toMatch(/owner/);
      }
      expect((await heirScim.get(`/Groups/${owners.id}`)).body.members.map((m: { value: string }) => m.value)).toEqual([heir.id]);
    });

    it("authenticates: no key 401, a non-owner's or read-only key 403, a SCIM key may not call gRPC", async () => {
      const none = await scimClient(server, undefined).get("/Users");
      expect(none.status).toBe(401);
      expect(none.contentType).toMatch(/^application\/scim\+json/);
      expect(none.body).toMatchObject({ schemas: [ERROR_URN], status: "401" });
      expect((await scimClient(server, "tt_not_a_key").get("/Users")).status).toBe(401);

      const editor = await server.client(UserService).createUser({ userName: unique("editor"), role: Role.EDITOR });
      const editorKey = await createKey(server, ApiKeyScope.ALL, { userId: editor.user?.id });
      const asEditor = await scimClient(server, editorKey).get("/Users");
      expect(asEditor.status).toBe(403);
      expect(asEditor.body).toMatchObject({ schemas: [ERROR_URN], status: "403" });
      expect((await scimClient(server, await createKey(server, ApiKeyScope.READ_ONLY)).get("/Users")).status).toBe(403);

      const scimOnly = await scimKey(server);
      expect(await codeOf(server.client(DatasetService, "grpc", scimOnly).listDatasets({}))).toBe(Code.PermissionDenied);
    });

    it("keeps organisations apart: another organisation's ids are 404", async () => {
      const mine = await newUser();
      const myGroup = await newGroup(undefined, [mine.id]);
      const otherScim = scimClient(server, await scimKey(server, await server.newOrganization("scim")));
      expect((await otherScim.get(`/Users/${mine.id}`)).status).toBe(404);
      expect((await otherScim.get(`/Groups/${myGroup.id}`)).status).toBe(404);
      expect((await otherScim.patch(`/Users/${mine.id}`, { op: "replace", path: "active", value: false })).status).toBe(404);
      expect((await otherScim.delete(`/Users/${mine.id}`)).status).toBe(404);
      expect((await otherScim.delete(`/Groups/${myGroup.id}`)).status).toBe(404);
      const ownGroup = await otherScim.post("/Groups", { schemas: [GROUP_URN], displayName: "theirs", members: [{ value: mine.id }] });
      expect(ownGroup.status).toBe(404);
      expect(JSON.stringify((await otherScim.get(`/Users${filterQuery(`userName eq "${mine.userName}"`)}`)).body)).not.toContain(mine.id);
      expect((await scim.get(`/Users/${mine.id}`)).body.active).toBe(true);
    });

    it("refuses oversize and non-JSON bodies, and paths that are not percent-encoded UTF-8", async () => {
      const badPath = await scim.get("/Users/%E0%A4%A");
      expect(badPath.status).toBe(400);
      expect(badPath.body).toMatchObject({ schemas: [ERROR_URN], scimType: "invalidSyntax" });
      expect((await scim.get("/Users/a%2Fb")).status).toBe(404);
      expect((await scim.get("/Nope")).body).toMatchObject({ schemas: [ERROR_URN], status: "404" });
      const big = JSON.stringify({ schemas: [USER_URN], userName: "big", displayName: "x".repeat(3 * 1024 * 1024) });
      const huge = await scim.request("POST", "/Users", undefined, { rawBody: big });
      expect(huge.status).toBe(413);
      expect(huge.body.schemas).toEqual([ERROR_URN]);
      const notJson = await scim.request("POST", "/Users", undefined, { rawBody: "userName=alice" });
      expect(notJson.status).toBe(400);
      expect(notJson.body).toMatchObject({ schemas: [ERROR_URN], scimType: "invalidSyntax" });
      expect((await scim.request("PATCH", "/Users/u_x", undefined, { rawBody: "{" })).status).toBe(400);
      expect((await scim.post("/Users", [1, 2])).status).toBe(400);
      expect((await scim.post("/Users", { schemas: [USER_URN], userName: 42 })).body.scimType).toBe("invalidValue");
    });

    it("records every SCIM write in the audit log", async () => {
      const user = await newUser();
      const group = await newGroup(undefined, [user.id]);
      await scim.patch(`/Users/${user.id}`, { op: "replace", path: "displayName", value: "Audited" });
      await scim.put(`/Users/${user.id}`, { schemas: [USER_URN], userName: user.userName, active: true });
      await scim.patch(`/Groups/${group.id}`, { op: "remove", path: "members" });
      await scim.delete(`/Groups/${group.id}`);
      await scim.delete(`/Users/${user.id}`);
      const audit = server.client(AuditService);
      const events = [
        ...(await audit.listAuditEvents({ resource: `user/${user.id}`, pageSize: 100 })).events,
        ...(await audit.listAuditEvents({ resource: `group/${group.id}`, pageSize: 100 })).events,
      ];
      const seen = events.map((e) => `${e.method} ${e.resource} ${e.outcome}`).sort();
      expect(seen).toEqual(
        [
          `SCIM POST /Users user/${user.id} ok`,
          `SCIM PATCH /Users user/${user.id} ok`,
          `SCIM PUT /Users user/${user.id} ok`,
          `SCIM DELETE /Users user/${user.id} ok`,
          `SCIM POST /Groups group/${group.id} ok`,
          `SCIM PATCH /Groups group/${group.id} ok`,
          `SCIM DELETE /Groups group/${group.id} ok`,
        ].sort(),
      );
      expect(events.every((e) => e.keyId && e.userId && e.source && e.requestId)).toBe(true);
      const refused = await scim.delete(`/Users/${user.id}`);
      expect(refused.status).toBe(404);
      const after = (await audit.listAuditEvents({ resource: `user/${user.id}`, pageSize: 100 })).events;
      expect(after.some((e) => e.method === "SCIM DELETE /Users" && e.outcome === "not_found")).toBe(true);
    });
  });
});
