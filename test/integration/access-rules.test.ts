/**
 * The rules of access a team relies on beyond "who may call what": nobody
 * grants more than they hold, project grants only add, an organisation always
 * keeps an active owner (also under concurrent demotions), and a key that must
 * stop working stops: deactivated users, revoked keys (on every replica) and
 * expired keys; a key cannot make a broader key, nor reach others' keys.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyScope, ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService, ProjectService } from "../../gen/traintrack/v1/experiment_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { outcomeOf } from "../support/data.js";
import { pollUntil } from "../support/poll.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

/** An organisation of its own (so owners can be demoted freely), with helpers acting as its first owner. */
async function organisation(server: TestServer) {
  const ownerKey = await server.newOrganization("rules");
  const as = (key: string) => ({
    users: server.client(UserService, "grpc", key),
    access: server.client(AccessService, "grpc", key),
    keys: server.client(ApiKeyService, "grpc", key),
    datasets: server.client(DatasetService, "grpc", key),
    projects: server.client(ProjectService, "grpc", key),
    experiments: server.client(ExperimentService, "grpc", key),
  });
  const owner = as(ownerKey);
  const ownerId = (await owner.access.whoAmI({})).user?.id ?? "";
  /** A user with an optional organisation role, and a key of theirs. */
  async function member(role = Role.UNSPECIFIED) {
    const user = (await owner.users.createUser({ userName: `m-${uniqueSuffix()}`, role })).user;
    const key = (await owner.keys.createApiKey({ name: "k", userId: user?.id })).secret;
    return { id: user?.id ?? "", key, ...as(key) };
  }
  return { owner, ownerId, ownerKey, as, member };
}

/** Keys that stop working fail authentication many times here: not the failure limit's business (access-audit tests it). */
const UNLIMITED = { env: { TRAINTRACK_AUTH_FAILURE_BURST: "1000000" } };

const alive = async (key: string, server: TestServer) => outcomeOf(server.client(AccessService, "grpc", key).whoAmI({}));

describe.each(backends())("access rules ($name)", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    if (backend.available) server = await startTestServer(backend.name, UNLIMITED);
  });
  afterAll(async () => server?.close());

  it.skipIf(!backend.available)("nobody grants more than they hold", async () => {
    const org = await organisation(server);
    for (const name of ["alpha", "beta"]) await org.owner.projects.createProject({ name });
    const target = await org.member();
    const maintainer = await org.member(Role.MAINTAINER);
    expect(await outcomeOf(maintainer.access.grantRole({ role: Role.OWNER, userId: target.id }))).toBe("PermissionDenied");
    expect(await outcomeOf(maintainer.access.grantRole({ role: Role.MAINTAINER, userId: target.id }))).toBe("OK");
    // Nor takes away more: an owner's grant is not a maintainer's to revoke.
    expect(await outcomeOf(maintainer.access.revokeRole({ role: Role.OWNER, userId: org.ownerId }))).toBe("PermissionDenied");

    const projectMaintainer = await org.member();
    await org.owner.access.grantRole({ role: Role.MAINTAINER, userId: projectMaintainer.id, project: "alpha" });
    expect(await outcomeOf(projectMaintainer.access.grantRole({ role: Role.EDITOR, userId: target.id, project: "alpha" }))).toBe("OK");
    expect(await outcomeOf(projectMaintainer.access.grantRole({ role: Role.EDITOR, userId: target.id, project: "beta" }))).toBe("PermissionDenied");
    expect(await outcomeOf(projectMaintainer.access.grantRole({ role: Role.VIEWER, userId: target.id }))).toBe("PermissionDenied");

    const editor = await org.member(Role.EDITOR);
    expect(await outcomeOf(editor.access.grantRole({ role: Role.VIEWER, userId: target.id }))).toBe("PermissionDenied");
    expect(await outcomeOf(editor.access.grantRole({ role: Role.VIEWER, userId: target.id, project: "alpha" }))).toBe("PermissionDenied");
    const { grants } = await org.owner.access.listGrants({ userId: target.id });
    expect(grants.map((g) => [Role[g.role], g.project]).sort()).toEqual([["EDITOR", "alpha"], ["MAINTAINER", ""]]);
  });

  it.skipIf(!backend.available)("project grants add to organisation grants and never take away", async () => {
    const org = await organisation(server);
    await org.owner.experiments.createExperiment({ project: "alpha", name: "e" });
    await org.owner.experiments.createExperiment({ project: "beta", name: "e" });
    const run = async (project: string) => (await org.owner.experiments.createRun({ project, experiment: "e" })).run?.runId ?? "";
    const [alphaRun, betaRun] = [await run("alpha"), await run("beta")];
    const log = (who: { experiments: typeof org.owner.experiments }, runId: string) =>
      outcomeOf(who.experiments.logParams({ runId, params: { [`k${uniqueSuffix()}`]: "1" } }));

    // An organisation editor given a lesser role on a project still writes there.
    const editor = await org.member(Role.EDITOR);
    await org.owner.access.grantRole({ role: Role.VIEWER, userId: editor.id, project: "alpha" });
    expect(await log(editor, alphaRun)).toBe("OK");
    // An organisation viewer given editor on alpha writes in alpha only, and still reads beta.
    const viewer = await org.member(Role.VIEWER);
    await org.owner.access.grantRole({ role: Role.EDITOR, userId: viewer.id, project: "alpha" });
    expect(await log(viewer, alphaRun)).toBe("OK");
    expect(await log(viewer, betaRun)).toBe("PermissionDenied");
    expect(await outcomeOf(viewer.experiments.getRun({ runId: betaRun }))).toBe("OK");
    // A project grant shows only that project; a run of a project out of reach spoils a history request.
    const outsider = await org.member();
    await org.owner.access.grantRole({ role: Role.EDITOR, userId: outsider.id, project: "alpha" });
    expect((await outsider.projects.listProjects({})).projects.map((p) => p.name)).toEqual(["alpha"]);
    expect(await outcomeOf(outsider.experiments.getMetricHistory({ key: "loss", runIds: [alphaRun, betaRun] }))).toBe("PermissionDenied");
    expect(await outcomeOf(outsider.experiments.getMetricHistory({ key: "loss", runIds: [alphaRun] }))).toBe("OK");
    const me = await viewer.access.whoAmI({});
    expect(Role[me.organizationRole]).toBe("VIEWER");
    expect(me.projectRoles.map((p) => [p.project, Role[p.role]])).toEqual([["alpha", "EDITOR"]]);
  });

  it.skipIf(!backend.available)("keeps an active owner: no deactivating, demoting, ungrouping or deleting the last one", async () => {
    const org = await organisation(server);
    expect(await outcomeOf(org.owner.users.deactivateUser({ id: org.ownerId }))).toBe("FailedPrecondition");
    expect(await outcomeOf(org.owner.access.revokeRole({ role: Role.OWNER, userId: org.ownerId }))).toBe("FailedPrecondition");
    expect(await outcomeOf(org.owner.users.updateUser({ id: org.ownerId, active: false }))).toBe("FailedPrecondition");

    // Ownership held only through a group: the group can neither lose its last owner nor go.
    const heir = await org.member();
    const owners = (await org.owner.users.createGroup({ displayName: "owners", memberIds: [heir.id] })).group?.id ?? "";
    await org.owner.access.grantRole({ role: Role.OWNER, groupId: owners });
    expect(await outcomeOf(org.owner.access.revokeRole({ role: Role.OWNER, userId: org.ownerId }))).toBe("OK");
    expect(await outcomeOf(heir.users.removeGroupMembers({ groupId: owners, userIds: [heir.id] }))).toBe("FailedPrecondition");
    expect(await outcomeOf(heir.users.deleteGroup({ groupId: owners }))).toBe("FailedPrecondition");
    expect(await outcomeOf(heir.access.revokeRole({ role: Role.OWNER, groupId: owners }))).toBe("FailedPrecondition");
    expect(await outcomeOf(heir.users.deactivateUser({ id: heir.id }))).toBe("FailedPrecondition");
    expect((await heir.users.getUser({ id: heir.id })).user?.active).toBe(true);
    expect((await heir.access.whoAmI({})).organizationRole).toBe(Role.OWNER);
  });

  it.skipIf(!backend.available)("of two owners demoted at once, exactly one demotion succeeds", async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const org = await organisation(server);
      const second = await org.member(Role.OWNER);
      const results = await Promise.all([
        outcomeOf(org.owner.access.revokeRole({ role: Role.OWNER, userId: second.id })),
        outcomeOf(second.access.revokeRole({ role: Role.OWNER, userId: org.ownerId })),
      ]);
      expect(results.filter((r) => r === "OK")).toHaveLength(1);
      // The other is refused: it would leave no owner (or, if it started after the first committed, its caller is no owner).
      expect(results.find((r) => r !== "OK")).toMatch(/^(FailedPrecondition|PermissionDenied)$/);
      const survivor = results[0] === "OK" ? org.owner : second;
      const { grants } = await survivor.access.listGrants({});
      expect(grants.filter((g) => g.role === Role.OWNER)).toHaveLength(1);
    }
  });

  it.skipIf(!backend.available)("a deactivated user's keys answer UNAUTHENTICATED on the very next call", async () => {
    const org = await organisation(server);
    const leaver = await org.member(Role.EDITOR);
    const second = (await org.owner.keys.createApiKey({ name: "second", userId: leaver.id })).secret;
    // Both keys were just used, so any cache holds them.
    expect([await alive(leaver.key, server), await alive(second, server)]).toEqual(["OK", "OK"]);
    const { keysDisabled } = await org.owner.users.deactivateUser({ id: leaver.id });
    expect(keysDisabled).toBe(2);
    expect([await alive(leaver.key, server), await alive(second, server)]).toEqual(["Unauthenticated", "Unauthenticated"]);
    expect(await outcomeOf(leaver.datasets.listDatasets({}))).toBe("Unauthenticated");
  });

  it.skipIf(!backend.available)("a revoked key answers UNAUTHENTICATED on the very next call, every time", async () => {
    const org = await organisation(server);
    // Repeated: the replica that revokes must not depend on its own notification arriving before the next call.
    const survived: string[] = [];
    for (let i = 0; i < 120; i++) {
      const user = await org.member(Role.VIEWER);
      expect(await alive(user.key, server)).toBe("OK");
      const [own] = (await user.keys.listApiKeys({})).keys;
      if (i % 3 === 0) await user.keys.revokeApiKey({ id: own?.id });
      else if (i % 3 === 1) await org.owner.keys.revokeApiKey({ id: own?.id });
      else await org.owner.users.deactivateUser({ id: user.id });
      const after = await alive(user.key, server);
      if (after !== "Unauthenticated") survived.push(`${["revoked by its user", "revoked by an owner", "user deactivated"][i % 3]}: ${after}`);
    }
    expect(survived).toEqual([]);
  });

  it.skipIf(!backend.available)("an expired key stops working", async () => {
    const org = await organisation(server);
    const { secret, key } = await org.owner.keys.createApiKey({ name: "brief", expiresAt: timestampFromDate(new Date(Date.now() + 1000)) });
    // Used (and so cached) just before it expires.
    expect(await alive(secret, server)).toBe("OK");
    const expiry = key?.expiresAt ? Number(key.expiresAt.seconds) * 1000 + key.expiresAt.nanos / 1e6 : 0;
    await pollUntil("the expired key is refused", async () => (await alive(secret, server)) === "Unauthenticated", 3000, 50);
    expect(Date.now()).toBeGreaterThanOrEqual(expiry);
  });

  it.skipIf(!backend.available)("a key cannot make a broader key, nor see or revoke another user's", async () => {
    const org = await organisation(server);
    await org.owner.projects.createProject({ name: "alpha" });
    const readOnly = org.as((await org.owner.keys.createApiKey({ name: "ro", scope: ApiKeyScope.READ_ONLY })).secret);
    expect(await outcomeOf(readOnly.keys.createApiKey({ name: "all", scope: ApiKeyScope.ALL }))).toBe("PermissionDenied");
    expect(await outcomeOf(readOnly.keys.createApiKey({ name: "ro2", scope: ApiKeyScope.READ_ONLY }))).toBe("PermissionDenied");
    const projectKey = org.as((await org.owner.keys.createApiKey({ name: "p", scope: ApiKeyScope.PROJECT, project: "alpha" })).secret);
    expect(await outcomeOf(projectKey.keys.createApiKey({ name: "all", scope: ApiKeyScope.ALL }))).toBe("PermissionDenied");
    expect(await outcomeOf(projectKey.keys.createApiKey({ name: "p2", scope: ApiKeyScope.PROJECT, project: "alpha" }))).toBe("OK");

    const alice = await org.member(Role.MAINTAINER);
    const bob = await org.member(Role.EDITOR);
    const [bobsKey] = (await org.owner.keys.listApiKeys({ userId: bob.id })).keys;
    expect(await outcomeOf(alice.keys.listApiKeys({ userId: bob.id }))).toBe("PermissionDenied");
    expect(await outcomeOf(alice.keys.listApiKeys({ allUsers: true }))).toBe("PermissionDenied");
    expect(await outcomeOf(alice.keys.createApiKey({ name: "for-bob", userId: bob.id }))).toBe("PermissionDenied");
    expect(await outcomeOf(alice.keys.revokeApiKey({ id: bobsKey?.id }))).toBe("NotFound");
    expect(await alive(bob.key, server)).toBe("OK");
    // Owners may: an owner revokes a leaver's key.
    expect(await outcomeOf(org.owner.keys.revokeApiKey({ id: bobsKey?.id }))).toBe("OK");
    expect(await alive(bob.key, server)).toBe("Unauthenticated");
  });

  it.skipIf(!backend.available)("shows a key's secret once: lists carry its prefix, never the secret", async () => {
    const org = await organisation(server);
    const created = await org.owner.keys.createApiKey({ name: "ci" });
    expect(created.secret).toMatch(/^tt_/);
    expect(created.secret.startsWith(created.key?.prefix ?? "-")).toBe(true);
    expect(created.key?.prefix.length).toBeGreaterThan(3);
    expect(created.key?.prefix.length).toBeLessThan(created.secret.length / 2);
    const listed = await org.owner.keys.listApiKeys({ allUsers: true, includeRevoked: true });
    const ci = listed.keys.find((k) => k.id === created.key?.id);
    expect(ci?.prefix).toBe(created.key?.prefix);
    expect(JSON.stringify(listed, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(created.secret);
  });
});

describe.skipIf(!backends().find((b) => b.name === "postgres+minio")?.available)("revocation across replicas on postgres+minio", () => {
  let first: TestServer & { env: Record<string, string> };
  let second: TestServer;
  beforeAll(async () => {
    first = await startTestServer("postgres+minio", UNLIMITED);
    second = await startTestServer("postgres+minio", { ...UNLIMITED, reuseEnv: first.env });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it("a key revoked on one replica stops working on the other, where it was just used", async () => {
    const org = await organisation(first);
    for (const how of ["revoked", "deactivated"] as const) {
      const user = await org.member(Role.EDITOR);
      // Used on the second replica, so that its cache holds it.
      expect(await alive(user.key, second)).toBe("OK");
      expect(await alive(user.key, second)).toBe("OK");
      if (how === "revoked") await org.owner.keys.revokeApiKey({ id: (await user.keys.listApiKeys({})).keys[0]?.id });
      else await org.owner.users.deactivateUser({ id: user.id });
      expect(await alive(user.key, first)).toBe("Unauthenticated");
      await pollUntil(`the ${how} key is refused on the other replica`, async () => (await alive(user.key, second)) === "Unauthenticated", 3000, 20);
    }
  });
});
