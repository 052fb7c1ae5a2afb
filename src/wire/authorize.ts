/**
 * Applies a policy rule (policy.ts) to a caller and a request: allowed, or
 * PermissionDeniedError saying which role is needed where. A run of another
 * organisation is NOT_FOUND, as if it did not exist.
 */
import { PermissionDeniedError } from "../services/errors.js";
import { effectiveRole, highestRole, includes, type Principal, type Role, type ScopeResolver } from "../services/identity/index.js";
import { anywhere, type Rule, type Scope } from "./policy.js";

const ROLE_NAMES: Record<Role, string> = { viewer: "viewer", editor: "editor", maintainer: "maintainer", owner: "owner" };

/** Throws unless `caller` may make request `req` under `rule`. */
export async function authorize<I>(rule: Rule<I>, req: I, caller: Principal, scopes: ScopeResolver): Promise<void> {
  const need = rule.stricter?.(req, caller) ?? rule.need;
  if (need === "public" || need === "signed-in") return;
  if (need === "instance-admin") {
    if (!caller.instanceAdmin) throw new PermissionDeniedError("only the instance administrator may do this (the first start's key, or TRAINTRACK_ADMIN_KEY)");
    return;
  }
  if (!caller.orgId) throw new PermissionDeniedError("TRAINTRACK_ADMIN_KEY may only manage organisations: use a key of a user of the organisation");
  if (need === "self") {
    if (caller.keyScope !== "all" && caller.keyScope !== "project") throw new PermissionDeniedError(`a key of scope "${caller.keyScope}" cannot do this`);
    return;
  }
  await requireRole(caller, need, rule.scope ? rule.scope(req) : { kind: "organization" }, scopes);
  for (const more of rule.also?.(req) ?? []) await requireRole(caller, more.need, more.scope, scopes);
}

async function requireRole(caller: Principal, role: Role, scope: Scope, scopes: ScopeResolver): Promise<void> {
  const { orgId } = caller;
  switch (scope.kind) {
    case "organization":
      return check(effectiveRole(caller, undefined), role, "the organisation");
    case "anywhere":
      return check(highestRole(caller), role, "the organisation or a project");
    case "project": {
      const id = await scopes.projectId(orgId, scope.name);
      if (id === undefined) {
        // Nothing to hold a project role on yet: creating it is an organisation matter.
        return check(effectiveRole(caller, undefined), scope.creates ? role : "viewer", `the organisation (project ${JSON.stringify(scope.name)} does not exist)`);
      }
      return check(effectiveRole(caller, id), role, `project ${JSON.stringify(scope.name)}`);
    }
    case "runs":
      for (const runId of new Set(scope.ids)) {
        const projectId = await scopes.projectOfRun(orgId, runId);
        check(effectiveRole(caller, projectId), role, `the project of run ${runId}`);
      }
      return;
    case "model": {
      const found = await scopes.projectOfModel(orgId, scope.name);
      if (found) return check(effectiveRole(caller, found.projectId ?? undefined), role, `model ${JSON.stringify(scope.name)}`);
      // No model yet: a call that creates it needs the role where it will be; any other finds nothing.
      if (scope.createsIn) return requireRole(caller, role, { kind: "project", name: scope.createsIn, creates: true }, scopes);
      return check(effectiveRole(caller, undefined), scope.createsIn === undefined ? "viewer" : role, `the organisation (model ${JSON.stringify(scope.name)} does not exist)`);
    }
    case "pipeline": {
      const found = await scopes.projectOfPipeline(orgId, scope.name);
      if (found) return check(effectiveRole(caller, found.projectId ?? undefined), role, `pipeline ${JSON.stringify(scope.name)}`);
      if (scope.createsIn) return requireRole(caller, role, { kind: "project", name: scope.createsIn, creates: true }, scopes);
      return check(effectiveRole(caller, undefined), scope.createsIn === undefined ? "viewer" : role, `the organisation (pipeline ${JSON.stringify(scope.name)} does not exist)`);
    }
    case "pipelineRun":
    case "step": {
      const projectId = scope.kind === "step" ? await scopes.projectOfStep(orgId, scope.id) : await scopes.projectOfPipelineRun(orgId, scope.id);
      return check(effectiveRole(caller, projectId ?? undefined), role, projectId ? "the pipeline's project" : "the organisation");
    }
    case "grant": {
      const projectId = await scopes.projectOfGrant(orgId, scope.id);
      return check(effectiveRole(caller, projectId), role, projectId ? "the grant's project" : "the organisation");
    }
  }
}

function check(held: Role | undefined, needed: Role, where: string): void {
  if (includes(held, needed)) return;
  const has = held ? `your key holds ${ROLE_NAMES[held]}` : "your key holds no role there";
  throw new PermissionDeniedError(`this needs the ${ROLE_NAMES[needed]} role on ${where}; ${has}: ask an owner or maintainer for a grant`);
}


/**
 * Whether the caller may call a method governed by `rule` on a project (an id;
 * undefined: the organisation), without a request at hand: for TestPermissions,
 * so that a UI can grey out what the caller may not do.
 */
export function mayCall(rule: Rule<never, never>, caller: Principal, projectId: string | undefined): boolean {
  const need = rule.need;
  if (need === "public" || need === "signed-in") return true;
  if (need === "instance-admin") return caller.instanceAdmin;
  if (!caller.orgId) return false;
  if (need === "self") return caller.keyScope === "all" || caller.keyScope === "project";
  if (!rule.scope) return includes(effectiveRole(caller, undefined), need);
  // Uploads and the project list answer the same on every project: the role anywhere decides.
  return includes(projectId === undefined || rule.scope === anywhere ? highestRole(caller) : effectiveRole(caller, projectId), need);
}
