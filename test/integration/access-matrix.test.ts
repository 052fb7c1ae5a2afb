/**
 * Every method of every served service, called as every kind of caller, on
 * both projects where the method names one: the answer is what the policy
 * table (src/wire/policy.ts) says under the documented role rules
 * (test/support/access-model.ts). Allowed calls succeed; refused ones are
 * PERMISSION_DENIED; a key of another organisation gets NOT_FOUND for our
 * resources and never sees one of our ids. Streams included.
 */
import { Code, type ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { type Rule, ruleOf } from "../../src/wire/policy.js";
import { servedServices } from "../../src/wire/routes.js";
import { ADMIN_KEY, type Fixture, PROJECTS, type ProjectName, setUpOrganisation } from "../support/access-fixtures.js";
import { CASES, call, sampleOf } from "../support/access-cases.js";
import { type Expected, expectedOf } from "../support/access-model.js";
import { backends, startTestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

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

  const byName = (name: string) => {
    const c = fx.callers.find((caller) => caller.name === name);
    if (!c) throw new Error(`no caller ${name}`);
    return c;
  };

  const callerNames = ["viewer", "editor", "maintainer", "owner", "alpha editor (project grant)", "editor through a group", "owner's read-only key", "owner's alpha key", "owner's SCIM key", "owner of another organisation", "TRAINTRACK_ADMIN_KEY"];
  it.skipIf(!backend.available).each(callerNames)("as %s, every method answers as the policy says", async (name) => {
    const c = byName(name);
    const wrong: string[] = [];
    for (const service of servedServices) {
      for (const method of service.methods) {
        const rule = ruleOf(service.typeName, method.localName) as Rule<unknown> | undefined;
        const id = `${service.typeName}/${method.localName}`;
        const testCase = CASES[id];
        if (!rule || rule.need === "public" || !testCase) continue;
        // Methods whose rule looks at a project (or a run's, a grant's or a model's) are called on both projects.
        const probe = await testCase.build({ fx, c, project: "alpha", tag: uniqueSuffix() });
        const kind = rule.scope?.(sampleOf(method, probe)).kind;
        const projects: ProjectName[] = kind === "project" || kind === "runs" || kind === "grant" || kind === "model" ? [...PROJECTS] : ["alpha"];
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

  // TestPermissions is what a UI greys buttons out by: it must agree with what the calls answer.
  it.skipIf(!backend.available).each(callerNames.filter((n) => n !== "owner of another organisation"))("TestPermissions tells %s what the calls answer", async (name) => {
    const c = byName(name);
    const access = fx.server.client(AccessService, "grpc", c.key);
    const wrong: string[] = [];
    for (const project of PROJECTS) {
      const methods = servedServices.flatMap((s) => s.methods.filter((m) => CASES[`${s.typeName}/${m.localName}`]).map((m) => ({ s, m })));
      const { permissions } = await access.testPermissions({ project, methods: methods.map(({ s, m }) => `${s.typeName}/${m.name}`) });
      for (const [i, { s, m }] of methods.entries()) {
        const rule = ruleOf(s.typeName, m.localName) as Rule<unknown>;
        const input = await (CASES[`${s.typeName}/${m.localName}`] as (typeof CASES)[string]).build({ fx, c, project, tag: uniqueSuffix() });
        // Methods without a project in their scope are asked about the organisation, whatever project the UI shows.
        const expected = expectedOf(rule, sampleOf(m, input), c, fx) === "allow";
        if (permissions[i]?.allowed !== expected) wrong.push(`${s.name}.${m.name} on ${project}: TestPermissions says ${permissions[i]?.allowed}, the call ${expected ? "is allowed" : "is refused"}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  // The matrix follows the policy table; these anchors pin what a team relies on, so that a table
  // that grew permissive (or strict) by mistake fails here even though the matrix would follow it.
  const ANCHORS: [caller: string, method: string, project: ProjectName, expected: Expected][] = [
    ["alpha editor (project grant)", "ExperimentService/logMetrics", "alpha", "allow"],
    ["alpha editor (project grant)", "ExperimentService/createRun", "alpha", "allow"],
    ["alpha editor (project grant)", "ExperimentService/logMetrics", "beta", "permission_denied"],
    ["alpha editor (project grant)", "ExperimentService/getRun", "beta", "permission_denied"],
    ["alpha editor (project grant)", "DatasetService/createDataset", "alpha", "permission_denied"],
    ["alpha editor (project grant)", "UploadService/upload", "alpha", "allow"],
    ["viewer", "ExperimentService/getRun", "beta", "allow"],
    ["viewer", "ExperimentService/streamMetrics", "alpha", "permission_denied"],
    ["viewer", "UploadService/upload", "alpha", "permission_denied"],
    ["editor", "DatasetService/createDataset", "alpha", "allow"],
    ["editor", "AccessService/grantRole", "alpha", "permission_denied"],
    ["editor through a group", "ExperimentService/streamMetrics", "beta", "allow"],
    ["maintainer", "AccessService/grantRole", "beta", "allow"],
    ["maintainer", "UserService/createUser", "alpha", "permission_denied"],
    ["maintainer", "AuditService/listAuditEvents", "alpha", "permission_denied"],
    ["owner", "UserService/deactivateUser", "alpha", "allow"],
    ["owner", "AuditService/listAuditEvents", "alpha", "allow"],
    ["owner", "OrganizationService/createOrganization", "alpha", "permission_denied"],
    ["owner's read-only key", "ExperimentService/getRun", "alpha", "allow"],
    ["owner's read-only key", "ExperimentService/logMetrics", "alpha", "permission_denied"],
    ["owner's read-only key", "UserService/createUser", "alpha", "permission_denied"],
    ["owner's read-only key", "ApiKeyService/createApiKey", "alpha", "permission_denied"],
    ["owner's alpha key", "ExperimentService/logMetrics", "alpha", "allow"],
    ["owner's alpha key", "RunArtefactService/downloadRunArtefact", "beta", "permission_denied"],
    ["owner's alpha key", "DatasetService/listDatasets", "alpha", "permission_denied"],
    ["owner's alpha key", "UserService/createUser", "alpha", "permission_denied"],
    ["owner's SCIM key", "ExperimentService/getRun", "alpha", "permission_denied"],
    ["owner's SCIM key", "UserService/listUsers", "alpha", "permission_denied"],
    ["owner of another organisation", "ExperimentService/getRun", "alpha", "not_found"],
    ["owner of another organisation", "RunArtefactService/downloadRunArtefact", "alpha", "not_found"],
    ["owner of another organisation", "DatasetService/downloadArtefact", "alpha", "not_found"],
    ["owner of another organisation", "UserService/deactivateUser", "alpha", "not_found"],
    ["alpha editor (project grant)", "ModelService/createModelVersion", "alpha", "allow"],
    ["alpha editor (project grant)", "ModelService/setModelAlias", "alpha", "allow"],
    ["alpha editor (project grant)", "ModelService/setModelAlias", "beta", "permission_denied"],
    ["alpha editor (project grant)", "ModelService/downloadModelFile", "beta", "permission_denied"],
    ["viewer", "ModelService/downloadModelFile", "beta", "allow"],
    ["viewer", "ModelService/setModelAlias", "alpha", "permission_denied"],
    ["owner's read-only key", "ModelService/createModelVersion", "alpha", "permission_denied"],
    ["owner's alpha key", "ModelService/getModelVersion", "beta", "permission_denied"],
    ["owner of another organisation", "ModelService/getModelVersion", "alpha", "not_found"],
    ["owner of another organisation", "ModelService/createModelVersion", "alpha", "not_found"],
    ["owner of another organisation", "LineageService/getLineageGraph", "alpha", "not_found"],
    ["TRAINTRACK_ADMIN_KEY", "OrganizationService/listOrganizations", "alpha", "allow"],
    ["TRAINTRACK_ADMIN_KEY", "DatasetService/listDatasets", "alpha", "permission_denied"],
    ["TRAINTRACK_ADMIN_KEY", "AccessService/listGrants", "alpha", "permission_denied"],
  ];
  it.skipIf(!backend.available)("answers what a team relies on", async () => {
    const wrong: string[] = [];
    for (const [name, short, project, expected] of ANCHORS) {
      const c = byName(name);
      const [serviceName, methodName] = short.split("/") as [string, string];
      const service = servedServices.find((s) => s.name === serviceName);
      const method = service?.methods.find((m) => m.localName === methodName);
      const testCase = service && method && CASES[`${service.typeName}/${method.localName}`];
      if (!service || !method || !testCase) throw new Error(`no case for ${short}`);
      const { error } = await call(fx.server, service, method, await testCase.build({ fx, c, project, tag: uniqueSuffix() }), c.key);
      if (codeOf(error) !== NAME[expected]) wrong.push(`${name}: ${short} on ${project}: expected ${NAME[expected]}, got ${codeOf(error)}`);
    }
    expect(wrong).toEqual([]);
  });
});
