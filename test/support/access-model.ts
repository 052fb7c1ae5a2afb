/**
 * What the documented access rules say a caller may do, written apart from
 * the server's code (roles.ts, authorize.ts) so that a matrix test compares
 * two readings of the rules: a role includes the ones below it; a project
 * role is the higher of the project's grants and the organisation's (owner
 * counts as maintainer on a project); a read-only key caps at viewer, a
 * project key reaches its project only (and uploads), a SCIM key no RPC.
 * The policy table (src/wire/policy.ts) gives each method's need and scope.
 */
import type { Rule, Scope } from "../../src/wire/policy.js";
import type { Role } from "../../src/services/identity/index.js";
import { type Caller, PROJECTS, type ProjectName } from "./access-fixtures.js";

export type Expected = "allow" | "permission_denied" | "not_found";

const RANK: Record<Role, number> = { viewer: 1, editor: 2, maintainer: 3, owner: 4 };
const atLeast = (held: Role | undefined, needed: Role) => held !== undefined && RANK[held] >= RANK[needed];
const higher = (a: Role | undefined, b: Role | undefined) => (a === undefined ? b : b === undefined ? a : RANK[a] >= RANK[b] ? a : b);

/** The caller's role on a project (or, undefined, the organisation) after its key's scope. */
export function roleOn(c: Caller, project: ProjectName | undefined): Role | undefined {
  if (c.keyScope === "scim") return undefined;
  if (c.keyScope === "project" && project !== c.keyProject) return undefined;
  let role = project ? higher(c.orgRole, c.projectRoles[project]) : c.orgRole;
  if (project && role === "owner") role = "maintainer";
  return c.keyScope === "read_only" && role ? "viewer" : role;
}

const anywhere = (c: Caller) => [undefined, ...PROJECTS].reduce<Role | undefined>((best, p) => higher(best, roleOn(c, p)), undefined);

export interface Resources {
  projectOfRun: Map<string, ProjectName>;
  projectOfGrant: Map<string, ProjectName | undefined>;
  projectOfModel: Map<string, ProjectName | undefined>;
  projectOfPipeline: Map<string, ProjectName>;
  projectOfPipelineRun: Map<string, ProjectName>;
  projectOfStep: Map<string, ProjectName>;
}

/** What `rule` says of `req` made by `c`, as far as the policy decides (the handler may still say NOT_FOUND). */
export function expectedOf(rule: Rule<unknown>, req: unknown, c: Caller, ours: Resources): Expected {
  const need = rule.stricter?.(req, { userId: c.userId, orgId: c.orgId }) ?? rule.need;
  if (need === "public" || need === "signed-in") return "allow";
  if (need === "instance-admin") return c.instanceAdmin ? "allow" : "permission_denied";
  if (!c.orgId) return "permission_denied";
  if (need === "self") return c.keyScope === "all" || c.keyScope === "project" ? "allow" : "permission_denied";
  const scope: Scope = rule.scope?.(req) ?? { kind: "organization" };
  const ok = (held: Role | undefined, needed: Role = need): Expected => (atLeast(held, needed) ? "allow" : "permission_denied");
  // A foreign key sees none of our projects, runs or grants: it acts in its own organisation, where it is owner.
  switch (scope.kind) {
    case "organization":
      return ok(roleOn(c, undefined));
    case "anywhere":
      return ok(anywhere(c));
    case "project": {
      const ourProject = !c.foreign && (PROJECTS as readonly string[]).includes(scope.name);
      if (ourProject) return ok(roleOn(c, scope.name as ProjectName));
      return ok(roleOn(c, undefined), scope.creates ? need : "viewer");
    }
    case "runs": {
      if (c.foreign) return "not_found";
      const verdicts = scope.ids.map((id) => (ours.projectOfRun.has(id) ? ok(roleOn(c, ours.projectOfRun.get(id))) : "not_found"));
      return verdicts.find((v) => v !== "allow") ?? "allow";
    }
    case "grant":
      return ok(roleOn(c, c.foreign ? undefined : ours.projectOfGrant.get(scope.id)));
    case "model": {
      // A foreign key finds none of our models: to it the name is free, in its own organisation, where it is owner.
      if (c.foreign) return ok(roleOn(c, undefined), scope.createsIn === undefined ? "viewer" : need);
      // A model is governed by its project's grants, or the organisation's without one.
      if (ours.projectOfModel.has(scope.name)) return ok(roleOn(c, ours.projectOfModel.get(scope.name)));
      // A model not there yet: a call that creates it needs the role where it will be; any other finds nothing.
      if (scope.createsIn === undefined) return ok(roleOn(c, undefined), "viewer");
      const ourProject = (PROJECTS as readonly string[]).includes(scope.createsIn);
      return ok(ourProject ? roleOn(c, scope.createsIn as ProjectName) : roleOn(c, undefined));
    }
    case "pipeline": {
      // As models: governed by the pipeline's project; one not there yet is created where the call says.
      if (c.foreign) return ok(roleOn(c, undefined), scope.createsIn === undefined ? "viewer" : need);
      if (ours.projectOfPipeline.has(scope.name)) return ok(roleOn(c, ours.projectOfPipeline.get(scope.name)));
      if (scope.createsIn === undefined) return ok(roleOn(c, undefined), "viewer");
      const ourProject = (PROJECTS as readonly string[]).includes(scope.createsIn);
      return ok(ourProject ? roleOn(c, scope.createsIn as ProjectName) : roleOn(c, undefined));
    }
    case "pipelineRun":
    case "step": {
      const project = (scope.kind === "step" ? ours.projectOfStep : ours.projectOfPipelineRun).get(scope.id);
      if (c.foreign || project === undefined) return "not_found";
      return ok(roleOn(c, project));
    }
  }
}
