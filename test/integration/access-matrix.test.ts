/**
 * Every method of every served service, called as every kind of caller, on
 * both projects where the method names one: the answer is what the policy
 * table (src/wire/policy.ts) says under the documented role rules
 * (test/support/access-model.ts). Allowed calls succeed; refused ones are
 * PERMISSION_DENIED; a key of another organisation gets NOT_FOUND for our
 * resources and never sees one of our ids. Streams included.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyScope } from "../../gen/traintrack/v1/api_key_pb.js";
import { RunStatus } from "../../gen/traintrack/v1/experiment_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { ruleOf, type Rule } from "../../src/wire/policy.js";
import { servedServices } from "../../src/wire/routes.js";
import { ADMIN_KEY, type Caller, type Fixture, PROJECTS, type ProjectName, setUpOrganisation } from "../support/access-fixtures.js";
import { type Expected, expectedOf } from "../support/access-model.js";
import { bytesOf, upload, uploadMessages } from "../support/data.js";
import { backends, startTestServer, type TestServer, withKey } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

interface Ctx {
  fx: Fixture;
  c: Caller;
  project: ProjectName;
  tag: string;
}

/**
 * A valid request for a method (for a client stream: its messages). `ours`: it
 * names a resource of ours, which a foreign key must find NOT_FOUND, or, for
 * idempotent calls that answer an unknown id with "nothing done", get that answer.
 */
interface Case {
  build: (x: Ctx) => unknown;
  ours?: true | ((response: unknown) => boolean);
  /** The response echoes what the caller sent (its own audit events name our ids it tried): checks it holds only the caller's own. */
  ownOnly?: (response: unknown, c: Caller) => boolean;
}

const point = (tag: string) => ({ runId: "", batchId: tag, points: [{ key: "loss", value: 2, step: 2n }] });
const metricsOf = (x: Ctx) => ({ ...point(x.tag), runId: x.fx.runs[x.project] });
const run = (x: Ctx) => ({ runId: x.fx.runs[x.project] });
const exp = (x: Ctx) => ({ project: x.project, name: "exp" });

const CASES: Record<string, Case> = {
  "traintrack.v1.UploadService/upload": { build: (x) => uploadMessages(`s-${x.tag}.bin`, bytesOf(10, 1)) },
  "traintrack.v1.UploadService/createUpload": { build: (x) => ({ upload: { fileName: `c-${x.tag}.bin`, size: 10n } }) },
  "traintrack.v1.UploadService/getUpload": { build: (x) => ({ uploadId: x.fx.uploadId }), ours: true },
  "traintrack.v1.UploadService/abortUpload": {
    build: async (x) => ({ uploadId: (await x.fx.uploads.createUpload({ upload: { fileName: "a.bin", size: 10n } })).upload?.uploadId }),
    ours: true,
  },
  "traintrack.v1.DatasetService/createDataset": { build: (x) => ({ name: `new-${x.tag}`, version: "1" }) },
  "traintrack.v1.DatasetService/getDataset": { build: (x) => ({ name: x.fx.dataset, version: "1" }), ours: true },
  "traintrack.v1.DatasetService/listArtefacts": { build: (x) => ({ dataset: { name: x.fx.dataset, version: "1" } }), ours: true },
  "traintrack.v1.DatasetService/listDatasets": { build: () => ({}) },
  "traintrack.v1.DatasetService/listDatasetVersions": { build: (x) => ({ name: x.fx.dataset }), ours: true },
  "traintrack.v1.DatasetService/getLineage": { build: (x) => ({ dataset: { name: x.fx.dataset, version: "1" } }), ours: true },
  "traintrack.v1.DatasetService/downloadArtefact": { build: (x) => ({ dataset: { name: x.fx.dataset, version: "1" }, path: "f.txt" }), ours: true },
  "traintrack.v1.ProjectService/createProject": { build: (x) => ({ name: `p-${x.tag}` }) },
  "traintrack.v1.ProjectService/getProject": { build: (x) => ({ name: x.project }), ours: true },
  "traintrack.v1.ProjectService/listProjects": { build: () => ({}) },
  "traintrack.v1.ExperimentService/createExperiment": { build: (x) => ({ project: x.project, name: `e-${x.tag}` }) },
  "traintrack.v1.ExperimentService/getExperiment": { build: exp, ours: true },
  "traintrack.v1.ExperimentService/listExperiments": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.ExperimentService/createRun": { build: (x) => ({ project: x.project, experiment: "exp", name: `r-${x.tag}` }) },
  "traintrack.v1.ExperimentService/getRun": { build: run, ours: true },
  "traintrack.v1.ExperimentService/listRuns": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.ExperimentService/searchRuns": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.ExperimentService/updateRunStatus": { build: (x) => ({ ...run(x), status: RunStatus.FINISHED }), ours: true },
  "traintrack.v1.ExperimentService/setRunTags": { build: (x) => ({ ...run(x), tags: { [`t-${x.tag}`]: "1" } }), ours: true },
  "traintrack.v1.ExperimentService/logParams": { build: (x) => ({ ...run(x), params: { [`p-${x.tag}`]: "1" } }), ours: true },
  "traintrack.v1.ExperimentService/useDatasets": { build: (x) => ({ ...run(x), datasets: [{ name: x.fx.dataset, version: "1" }] }), ours: true },
  "traintrack.v1.ExperimentService/logMetrics": { build: metricsOf, ours: true },
  "traintrack.v1.ExperimentService/streamMetrics": { build: (x) => [metricsOf(x), { ...metricsOf(x), batchId: `${x.tag}-2` }], ours: true },
  "traintrack.v1.ExperimentService/getMetricHistory": { build: (x) => ({ key: "loss", runIds: [x.fx.runs[x.project]] }), ours: true },
  "traintrack.v1.RunArtefactService/logRunArtefacts": {
    build: async (x) => ({ ...run(x), artefacts: [{ uploadId: (await upload(x.fx.uploads, "m.bin", bytesOf(10, 2))).uploadId, path: `m-${x.tag}.bin` }] }),
    ours: true,
  },
  "traintrack.v1.RunArtefactService/listRunArtefacts": { build: run, ours: true },
  "traintrack.v1.RunArtefactService/downloadRunArtefact": { build: (x) => ({ ...run(x), path: "model.bin" }), ours: true },
  "traintrack.v1.OrganizationService/createOrganization": { build: (x) => ({ name: `org-${x.tag}` }) },
  // The administrator names our organisation; members ask for their own.
  "traintrack.v1.OrganizationService/getOrganization": { build: (x) => ({ id: x.c.instanceAdmin ? x.fx.orgId : "" }) },
  "traintrack.v1.OrganizationService/listOrganizations": { build: () => ({}) },
  "traintrack.v1.UserService/createUser": { build: (x) => ({ userName: `n-${x.tag}` }) },
  "traintrack.v1.UserService/getUser": { build: (x) => ({ id: x.fx.callers[0]?.userId }), ours: true },
  "traintrack.v1.UserService/listUsers": { build: () => ({}) },
  "traintrack.v1.UserService/updateUser": { build: async (x) => ({ id: await x.fx.newUser(), displayName: "Renamed" }), ours: true },
  "traintrack.v1.UserService/deactivateUser": { build: async (x) => ({ id: await x.fx.newUser() }), ours: true },
  "traintrack.v1.UserService/createServiceAccount": { build: (x) => ({ name: `sa-${x.tag}` }) },
  "traintrack.v1.UserService/createGroup": { build: (x) => ({ displayName: `g-${x.tag}` }) },
  "traintrack.v1.UserService/listGroups": { build: () => ({}) },
  "traintrack.v1.UserService/addGroupMembers": { build: async (x) => ({ groupId: x.fx.plainGroupId, userIds: [await x.fx.newUser()] }), ours: true },
  "traintrack.v1.UserService/removeGroupMembers": { build: async (x) => ({ groupId: x.fx.plainGroupId, userIds: [await x.fx.newUser()] }), ours: true },
  "traintrack.v1.UserService/deleteGroup": {
    build: async (x) => ({ groupId: (await x.fx.users.createGroup({ displayName: `d-${x.tag}` })).group?.id }),
    ours: true,
  },
  "traintrack.v1.AccessService/grantRole": { build: async (x) => ({ role: Role.VIEWER, userId: await x.fx.newUser(), project: x.project }), ours: true },
  "traintrack.v1.AccessService/revokeRole": {
    build: async (x) => {
      const grant = (await x.fx.access.grantRole({ role: Role.VIEWER, userId: await x.fx.newUser(), project: x.project })).grant;
      x.fx.projectOfGrant.set(grant?.id ?? "", x.project);
      return { grantId: grant?.id };
    },
    ours: (response) => (response as { revoked: boolean }).revoked === false,
  },
  "traintrack.v1.AccessService/listGrants": { build: (x) => ({ project: x.project }) },
  "traintrack.v1.AccessService/whoAmI": { build: () => ({}) },
  "traintrack.v1.AccessService/testPermissions": { build: () => ({ methods: ["traintrack.v1.DatasetService/CreateDataset"] }) },
  // A project key may only make keys of its project.
  "traintrack.v1.ApiKeyService/createApiKey": {
    build: (x) => (x.c.keyScope === "project" ? { name: x.tag, scope: ApiKeyScope.PROJECT, project: x.c.keyProject } : { name: x.tag }),
  },
  "traintrack.v1.ApiKeyService/listApiKeys": { build: () => ({}) },
  // Everyone revokes a key of their own (the administrator's key has no user: it names the first user's).
  "traintrack.v1.ApiKeyService/revokeApiKey": {
    build: async (x) => ({ id: (await x.fx.keys.createApiKey({ name: "doomed", userId: x.c.foreign || !x.c.userId ? x.fx.callers[0]?.userId : x.c.userId })).key?.id }),
    ours: true,
  },
  "traintrack.v1.AuditService/listAuditEvents": {
    build: () => ({ pageSize: 1000 }),
    ownOnly: (response, c) => (response as { events: { userId: string }[] }).events.every((e) => e.userId === c.userId),
  },
};

/** Calls `method` with `input` as `key`, draining streams; the response, or the error. */
async function call(server: TestServer, service: DescService, method: DescMethod, input: unknown, key: string): Promise<{ response?: unknown; error?: ConnectError }> {
  const client = createClient(service, withKey(server.transports.grpc, key)) as unknown as Record<string, (i: unknown) => unknown>;
  const invoke = client[method.localName] as (i: unknown) => unknown;
  try {
    if (method.methodKind === "client_streaming") {
      return { response: await invoke((async function* () { yield* input as Iterable<unknown> | AsyncIterable<unknown>; })()) };
    }
    if (method.methodKind === "server_streaming") {
      const messages: unknown[] = [];
      for await (const m of invoke(input) as AsyncIterable<unknown>) messages.push(m);
      return { response: messages };
    }
    return { response: await invoke(input) };
  } catch (e) {
    return { error: ConnectError.from(e) };
  }
}

/** The message a rule looks at: a client stream's first (the matrix sends one run's messages), or the request. */
const sampleOf = (method: DescMethod, input: unknown) => (Array.isArray(input) ? input[0] : method.methodKind === "client_streaming" ? undefined : input);
const codeOf = (error: ConnectError | undefined) => (error ? Code[error.code] : "OK");
const NAME: Record<Expected, string> = { allow: "OK", permission_denied: "PermissionDenied", not_found: "NotFound" };
const json = (v: unknown) => JSON.stringify(v, (_k, value: unknown) => (typeof value === "bigint" ? value.toString() : value));

describe.each(backends())("access matrix ($name)", (backend) => {
  let fx: Fixture;
  beforeAll(async () => {
    if (!backend.available) return;
    fx = await setUpOrganisation(await startTestServer(backend.name, { env: { TRAINTRACK_ADMIN_KEY: ADMIN_KEY } }));
  });
  afterAll(async () => fx?.server.close());

  it.skipIf(!backend.available)("has a request for every method the policy does not leave public", () => {
    const missing = servedServices.flatMap((s) =>
      s.methods.filter((m) => ruleOf(s.typeName, m.localName)?.need !== "public" && !CASES[`${s.typeName}/${m.localName}`]).map((m) => `${s.typeName}/${m.localName}`),
    );
    expect(missing).toEqual([]);
  });

  const callerNames = ["viewer", "editor", "maintainer", "owner", "alpha editor (project grant)", "editor through a group", "owner's read-only key", "owner's alpha key", "owner's SCIM key", "owner of another organisation", "TRAINTRACK_ADMIN_KEY"];
  it.skipIf(!backend.available).each(callerNames)("as %s, every method answers as the policy says", async (name) => {
    const c = fx.callers.find((caller) => caller.name === name) as Caller;
    expect(c).toBeDefined();
    const wrong: string[] = [];
    for (const service of servedServices) {
      for (const method of service.methods) {
        const rule = ruleOf(service.typeName, method.localName) as Rule<unknown> | undefined;
        const id = `${service.typeName}/${method.localName}`;
        const testCase = CASES[id];
        if (!rule || rule.need === "public" || !testCase) continue;
        // Methods whose rule looks at a project (or a run's) are called on both projects.
        const probe = await testCase.build({ fx, c, project: "alpha", tag: uniqueSuffix() });
        const kind = rule.scope?.(sampleOf(method, probe)).kind;
        const projects: ProjectName[] = kind === "project" || kind === "runs" || kind === "grant" ? [...PROJECTS] : ["alpha"];
        for (const project of projects) {
          const input = project === "alpha" ? probe : await testCase.build({ fx, c, project, tag: uniqueSuffix() });
          let expected = expectedOf(rule, sampleOf(method, input), c, fx);
          const foreignAnswer = c.foreign && expected === "allow" ? testCase.ours : undefined;
          if (foreignAnswer === true) expected = "not_found";
          const { response, error } = await call(fx.server, service, method, input, c.key);
          const got = codeOf(error);
          if (got !== NAME[expected]) wrong.push(`${id} on ${project}: expected ${NAME[expected]}, got ${got}${error ? ` (${error.rawMessage})` : ""}`);
          else if (typeof foreignAnswer === "function" && !foreignAnswer(response)) wrong.push(`${id} on ${project}: a foreign key changed something of ours: ${json(response)}`);
          if (c.foreign && response !== undefined && testCase.ownOnly) {
            if (!testCase.ownOnly(response, c)) wrong.push(`${id} on ${project}: a foreign key saw what others did: ${json(response)}`);
          } else if (c.foreign && response !== undefined) {
            const seen = [...fx.ourIds].filter((ourId) => ourId && json(response).includes(ourId));
            if (seen.length > 0) wrong.push(`${id} on ${project}: a foreign key saw ${seen.join(", ")}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
