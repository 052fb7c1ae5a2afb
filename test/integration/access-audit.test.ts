/**
 * The audit log (who, what, when, from where, outcome; paged, filtered, for
 * owners only), the instance administrator's key, rate-limited failed
 * authentication, and bad input on the identity RPCs: malformed names and
 * emails, oversize fields, unknown enum values, another organisation's ids.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { type AuditEvent, AuditService } from "../../gen/traintrack/v1/audit_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { OrganizationService } from "../../gen/traintrack/v1/organization_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { ADMIN_KEY } from "../support/access-fixtures.js";
import { outcomeOf } from "../support/data.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

const clients = (server: TestServer, key: string) => ({
  users: server.client(UserService, "grpc", key),
  access: server.client(AccessService, "grpc", key),
  keys: server.client(ApiKeyService, "grpc", key),
  audit: server.client(AuditService, "grpc", key),
  datasets: server.client(DatasetService, "grpc", key),
  organizations: server.client(OrganizationService, "grpc", key),
});

/** A user of the organisation `owner` owns, with a role and a key. */
async function member(server: TestServer, owner: ReturnType<typeof clients>, role: Role) {
  const user = (await owner.users.createUser({ userName: `m-${uniqueSuffix()}`, role })).user;
  const { secret, key } = await owner.keys.createApiKey({ name: "k", userId: user?.id });
  return { id: user?.id ?? "", keyId: key?.id ?? "", ...clients(server, secret) };
}

async function allEvents(audit: ReturnType<typeof clients>["audit"], filter: { pageSize?: number } & Record<string, unknown> = {}): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let pageToken = "";
  do {
    const page = await audit.listAuditEvents({ pageSize: 100, ...filter, pageToken });
    events.push(...page.events);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return events;
}

describe.each(backends())("audit, administrator and bad input ($name)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    if (backend.available) server = await startTestServer(backend.name, { env: { TRAINTRACK_ADMIN_KEY: ADMIN_KEY } });
  });
  afterAll(async () => server?.close());

  it.skipIf(!backend.available)("records writes and access changes, refused ones too, for owners to page and filter", async () => {
    const owner = clients(server, await server.newOrganization("audited"));
    const ownerId = (await owner.access.whoAmI({})).user?.id ?? "";
    const editor = await member(server, owner, Role.EDITOR);
    const viewer = await member(server, owner, Role.VIEWER);
    const name = `d-${uniqueSuffix()}`;
    expect(await outcomeOf(viewer.datasets.createDataset({ name, version: "1" }))).toBe("PermissionDenied");
    await editor.datasets.createDataset({ name, version: "1" });
    await editor.datasets.listDatasets({});
    const between = new Date();
    await owner.access.grantRole({ role: Role.EDITOR, userId: viewer.id });

    const events = await allEvents(owner.audit);
    const method = (m: string) => events.filter((e) => e.method === m);
    const creates = method("traintrack.v1.DatasetService/CreateDataset");
    expect(creates.map((e) => [e.userId, e.keyId, e.resource, e.outcome])).toEqual([
      [editor.id, editor.keyId, `dataset/${name}`, "ok"],
      [viewer.id, viewer.keyId, `dataset/${name}`, "permission_denied"],
    ]);
    for (const e of events) {
      expect(e.source).toMatch(/127\.0\.0\.1/);
      expect(e.time).toBeDefined();
    }
    expect(method("traintrack.v1.AccessService/GrantRole").map((e) => [e.userId, e.resource, e.outcome])).toEqual([[ownerId, `user/${viewer.id}`, "ok"]]);
    expect(method("traintrack.v1.UserService/CreateUser")).toHaveLength(2);
    expect(method("traintrack.v1.ApiKeyService/CreateApiKey")).toHaveLength(2);
    // Reads are not writes: nothing recorded.
    expect(method("traintrack.v1.DatasetService/ListDatasets")).toEqual([]);

    // Pages of two hold the same events, newest first, none twice.
    const paged = await allEvents(owner.audit, { pageSize: 2 });
    expect(paged.map((e) => e.id)).toEqual(events.map((e) => e.id));
    const times = events.map((e) => Number(e.time?.seconds) * 1e3 + (e.time?.nanos ?? 0) / 1e6);
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    // Filters: time, user, key, resource (exact, or everything under a prefix).
    const since = await allEvents(owner.audit, { since: timestampFromDate(between) });
    expect(since.map((e) => e.method)).toEqual(["traintrack.v1.AccessService/GrantRole"]);
    const until = await allEvents(owner.audit, { until: timestampFromDate(between) });
    expect(until.length).toBe(events.length - 1);
    expect((await allEvents(owner.audit, { userId: viewer.id })).map((e) => e.outcome)).toEqual(["permission_denied"]);
    expect((await allEvents(owner.audit, { keyId: editor.keyId })).map((e) => e.resource)).toEqual([`dataset/${name}`]);
    expect(await allEvents(owner.audit, { resource: `dataset/${name}` })).toHaveLength(2);
    expect((await allEvents(owner.audit, { resource: "user/" })).every((e) => e.resource.startsWith("user/"))).toBe(true);
    expect(await allEvents(owner.audit, { resource: "user/" })).toHaveLength(events.filter((e) => e.resource.startsWith("user/")).length);

    // Only owners read it; a read-only key of an owner is no owner.
    const maintainer = await member(server, owner, Role.MAINTAINER);
    const readOnly = clients(server, (await owner.keys.createApiKey({ name: "ro", scope: ApiKeyScope.READ_ONLY })).secret);
    for (const who of [editor, maintainer, readOnly]) expect(await outcomeOf(who.audit.listAuditEvents({}))).toBe("PermissionDenied");
  });

  it.skipIf(!backend.available)("TRAINTRACK_ADMIN_KEY manages organisations and nothing inside one; owners do not manage organisations", async () => {
    const admin = clients(server, ADMIN_KEY);
    const name = `acme-${uniqueSuffix()}`;
    const created = await admin.organizations.createOrganization({ name, ownerUserName: "boss", ownerEmail: "boss@acme.example" });
    expect(await outcomeOf(admin.organizations.createOrganization({ name }))).toBe("AlreadyExists");
    const listed = await admin.organizations.listOrganizations({ pageSize: 1000 });
    expect(listed.organizations.map((o) => o.name)).toContain(name);
    const me = await admin.access.whoAmI({});
    expect([me.instanceAdmin, me.organization]).toEqual([true, undefined]);
    const inside = [admin.datasets.listDatasets({}), admin.users.listUsers({}), admin.keys.createApiKey({ name: "x" }), admin.audit.listAuditEvents({})];
    expect(await Promise.all(inside.map(outcomeOf))).toEqual(Array(inside.length).fill("PermissionDenied"));

    const boss = clients(server, created.ownerKeySecret);
    const bossMe = await boss.access.whoAmI({});
    expect([bossMe.organization?.name, bossMe.user?.userName, bossMe.organizationRole, bossMe.instanceAdmin]).toEqual([name, "boss", Role.OWNER, false]);
    expect(await outcomeOf(boss.organizations.createOrganization({ name: `${name}-2` }))).toBe("PermissionDenied");
    expect(await outcomeOf(boss.organizations.listOrganizations({}))).toBe("PermissionDenied");
    const others = listed.organizations.filter((o) => o.name !== name).map((o) => o.id);
    expect(await outcomeOf(boss.organizations.getOrganization({ id: others[0] }))).not.toBe("OK");
    expect((await boss.organizations.getOrganization({})).organization?.name).toBe(name);
  });

  it.skipIf(!backend.available)("refuses malformed, oversize and unknown input with INVALID_ARGUMENT, and another organisation's ids with NOT_FOUND", async () => {
    const owner = clients(server, await server.newOrganization("strict"));
    const foreignOwner = clients(server, await server.newOrganization("foreign"));
    const foreign = await member(server, foreignOwner, Role.EDITOR);
    const foreignGroup = (await foreignOwner.users.createGroup({ displayName: "theirs", memberIds: [foreign.id] })).group?.id ?? "";
    const foreignGrant = (await foreignOwner.access.grantRole({ role: Role.VIEWER, groupId: foreignGroup })).grant?.id ?? "";
    const mine = await member(server, owner, Role.VIEWER);
    const group = (await owner.users.createGroup({ displayName: "ours" })).group?.id ?? "";
    const long = (n: number) => "a".repeat(n);

    const invalid: [string, Promise<string>][] = [
      ["empty user name", outcomeOf(owner.users.createUser({ userName: "" }))],
      ["user name with a space", outcomeOf(owner.users.createUser({ userName: "bad name" }))],
      ["user name starting with a dash", outcomeOf(owner.users.createUser({ userName: "-lead" }))],
      ["user name of 129 bytes", outcomeOf(owner.users.createUser({ userName: long(129) }))],
      ["email without @", outcomeOf(owner.users.createUser({ userName: "e1", email: "nope" }))],
      ["email of 255 bytes", outcomeOf(owner.users.createUser({ userName: "e2", email: `${long(250)}@x.io` }))],
      ["display name of 257 bytes", outcomeOf(owner.users.createUser({ userName: "e3", displayName: long(257) }))],
      ["display name with NUL", outcomeOf(owner.users.createUser({ userName: "e4", displayName: "a\u0000b" }))],
      ["unknown role", outcomeOf(owner.users.createUser({ userName: "e5", role: 42 as Role }))],
      ["service account name", outcomeOf(owner.users.createServiceAccount({ name: "ci bot" }))],
      ["empty group name", outcomeOf(owner.users.createGroup({ displayName: "" }))],
      ["1001 members", outcomeOf(owner.users.addGroupMembers({ groupId: group, userIds: Array.from({ length: 1001 }, () => mine.id) }))],
      ["id and user name", outcomeOf(owner.users.getUser({ id: mine.id, userName: "x" }))],
      ["oversize id", outcomeOf(owner.users.getUser({ id: long(65) }))],
      ["email update", outcomeOf(owner.users.updateUser({ id: mine.id, email: "a@b@c" }))],
      ["unspecified role", outcomeOf(owner.access.grantRole({ role: Role.UNSPECIFIED, userId: mine.id }))],
      ["unknown grant role", outcomeOf(owner.access.grantRole({ role: 99 as Role, userId: mine.id }))],
      ["user and group", outcomeOf(owner.access.grantRole({ role: Role.VIEWER, userId: mine.id, groupId: group }))],
      ["owner on a project", outcomeOf(owner.access.grantRole({ role: Role.OWNER, userId: mine.id, project: "p" }))],
      ["unknown key scope", outcomeOf(owner.keys.createApiKey({ name: "k", scope: 99 as ApiKeyScope }))],
      ["empty key name", outcomeOf(owner.keys.createApiKey({ name: "" }))],
      ["key name of 129 bytes", outcomeOf(owner.keys.createApiKey({ name: long(129) }))],
      ["project key without a project", outcomeOf(owner.keys.createApiKey({ name: "k", scope: ApiKeyScope.PROJECT }))],
      ["project on a key of scope all", outcomeOf(owner.keys.createApiKey({ name: "k", project: "p" }))],
      ["expiry in the past", outcomeOf(owner.keys.createApiKey({ name: "k", expiresAt: timestampFromDate(new Date(Date.now() - 60_000)) }))],
      ["expiry in 11 years", outcomeOf(owner.keys.createApiKey({ name: "k", expiresAt: timestampFromDate(new Date(Date.now() + 11 * 366 * 864e5)) }))],
      ["empty key id", outcomeOf(owner.keys.revokeApiKey({ id: "" }))],
      ["oversize audit resource", outcomeOf(owner.audit.listAuditEvents({ resource: long(600) }))],
      ["garbage page token", outcomeOf(owner.audit.listAuditEvents({ pageToken: "not-a-token" }))],
      ["page size over 1000", outcomeOf(owner.users.listUsers({ pageSize: 5000 }))],
      ["unknown method", outcomeOf(owner.access.testPermissions({ methods: ["traintrack.v1.NoService/Nothing"] }))],
      ["201 methods", outcomeOf(owner.access.testPermissions({ methods: Array.from({ length: 201 }, () => "traintrack.v1.DatasetService/CreateDataset") }))],
      ["organisation name with a space", outcomeOf(server.client(OrganizationService, "grpc", ADMIN_KEY).createOrganization({ name: "a b" }))],
      ["organisation name of 200 bytes", outcomeOf(server.client(OrganizationService, "grpc", ADMIN_KEY).createOrganization({ name: long(200) }))],
    ];
    const notFound: [string, Promise<string>][] = [
      ["their user", outcomeOf(owner.users.getUser({ id: foreign.id }))],
      ["their user updated", outcomeOf(owner.users.updateUser({ id: foreign.id, displayName: "x" }))],
      ["their user deactivated", outcomeOf(owner.users.deactivateUser({ id: foreign.id }))],
      ["their user in our group", outcomeOf(owner.users.addGroupMembers({ groupId: group, userIds: [foreign.id] }))],
      ["their user in a new group", outcomeOf(owner.users.createGroup({ displayName: "mixed", memberIds: [foreign.id] }))],
      ["their group", outcomeOf(owner.users.addGroupMembers({ groupId: foreignGroup, userIds: [mine.id] }))],
      ["their group deleted", outcomeOf(owner.users.deleteGroup({ groupId: foreignGroup }))],
      ["a grant for their user", outcomeOf(owner.access.grantRole({ role: Role.VIEWER, userId: foreign.id }))],
      ["a grant for their group", outcomeOf(owner.access.grantRole({ role: Role.VIEWER, groupId: foreignGroup }))],
      ["a key for their user", outcomeOf(owner.keys.createApiKey({ name: "k", userId: foreign.id }))],
      ["their key revoked", outcomeOf(owner.keys.revokeApiKey({ id: foreign.keyId }))],
      ["a project of nobody's", outcomeOf(owner.access.listGrants({ project: "nope" }))],
    ];
    const wrong: string[] = [];
    // Each outcome is awaited whole (outcomeOf never rejects), so the calls run at once.
    for (const [what, outcome] of invalid) if ((await outcome) !== "InvalidArgument") wrong.push(`${what}: ${await outcome}`);
    for (const [what, outcome] of notFound) if ((await outcome) !== "NotFound") wrong.push(`${what}: ${await outcome}`);
    expect(wrong).toEqual([]);

    // Idempotent calls answer an unknown id with "nothing done", and do nothing to the other organisation.
    expect((await owner.access.revokeRole({ grantId: foreignGrant })).revoked).toBe(false);
    expect((await foreignOwner.access.listGrants({ groupId: foreignGroup })).grants.map((g) => g.id)).toEqual([foreignGrant]);
    expect((await owner.keys.listApiKeys({ userId: foreign.id })).keys).toEqual([]);
    expect(await outcomeOf(foreign.access.whoAmI({}))).toBe("OK");
  });
});

describe.each(backends())("failed authentication ($name)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    if (backend.available) server = await startTestServer(backend.name, { env: { TRAINTRACK_AUTH_FAILURE_BURST: "3", TRAINTRACK_AUTH_FAILURE_REFILL_MS: "3600000" } });
  });
  afterAll(async () => server?.close());

  it.skipIf(!backend.available)("is rate limited per address, while a valid key from the same address keeps working", async () => {
    const valid = server.client(AccessService);
    expect(await outcomeOf(valid.whoAmI({}))).toBe("OK");
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) answers.push(await outcomeOf(server.client(AccessService, "grpc", `tt_wrong_${i}_${uniqueSuffix()}`).whoAmI({})));
    expect(answers.slice(0, 3)).toEqual(["Unauthenticated", "Unauthenticated", "Unauthenticated"]);
    expect(answers.slice(3)).toEqual(Array(5).fill("ResourceExhausted"));
    expect(await outcomeOf(valid.whoAmI({}))).toBe("OK");
    expect(await outcomeOf(server.client(DatasetService).listDatasets({}))).toBe("OK");
  });
});
