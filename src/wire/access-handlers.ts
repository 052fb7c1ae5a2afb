import type { ServiceImpl } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { type AccessService, ProjectRoleSchema } from "../../gen/traintrack/v1/access_pb.js";
import { create } from "@bufbuild/protobuf";
import { InvalidInputError } from "../services/errors.js";
import {
  effectiveRole,
  type GrantService,
  type GrantSpec,
  type KeyService,
  type OrganizationService,
  type Principal,
  type ScopeResolver,
  type UserDirectory,
} from "../services/identity/index.js";
import { mayCall } from "./authorize.js";
import { toGrant, toKey, toOrganization, toUser } from "./identity-messages.js";
import { principalOf } from "./interceptors/auth.js";
import { ruleOf } from "./policy.js";
import * as f from "./validate/fields.js";
import * as v from "./validate/identity.js";

export interface AccessHandlerDeps {
  grants: GrantService;
  users: UserDirectory;
  keys: KeyService;
  organizations: OrganizationService;
  scopes: ScopeResolver;
  /** Every service this server answers, to resolve method names for TestPermissions. */
  services: readonly DescService[];
}

const MAX_METHODS = 200;
const MAX_PROJECT_ROLES = 1000;

function grantSpec(req: { role: Parameters<typeof v.role>[1]; userId: string; groupId: string; project: string }): GrantSpec {
  if (Boolean(req.userId) === Boolean(req.groupId)) throw new InvalidInputError("user_id", "give exactly one of user_id and group_id");
  return {
    role: v.role("role", req.role, false) as GrantSpec["role"],
    userId: req.userId ? f.id("user_id", req.userId) : undefined,
    groupId: req.groupId ? f.id("group_id", req.groupId) : undefined,
    project: req.project ? f.datasetName("project", req.project) : undefined,
  };
}

export function accessHandlers(deps: AccessHandlerDeps): ServiceImpl<typeof AccessService> {
  const { grants, scopes } = deps;
  // "traintrack.v1.DatasetService/CreateDataset" and "DatasetService.CreateDataset" → [type name, local name].
  const methods = new Map<string, [string, string]>();
  for (const service of deps.services) {
    for (const m of service.methods) {
      methods.set(`${service.typeName}/${m.name}`, [service.typeName, m.localName]);
      methods.set(`${service.name}.${m.name}`, [service.typeName, m.localName]);
    }
  }

  return {
    async grantRole(req, ctx) {
      return { grant: toGrant(await grants.grant(principalOf(ctx), grantSpec(req))) };
    },
    async revokeRole(req, ctx) {
      const target = req.grantId ? { grantId: f.id("grant_id", req.grantId) } : grantSpec(req);
      return { revoked: await grants.revoke(principalOf(ctx), target) };
    },
    async listGrants(req, ctx) {
      const page = await grants.list(principalOf(ctx).orgId, {
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
        userId: req.userId ? f.id("user_id", req.userId) : undefined,
        groupId: req.groupId ? f.id("group_id", req.groupId) : undefined,
        project: req.project ? f.datasetName("project", req.project) : undefined,
      });
      return { grants: page.items.map(toGrant), nextPageToken: page.nextPageToken };
    },
    async whoAmI(_req, ctx) {
      const caller = principalOf(ctx);
      if (!caller.orgId) return { instanceAdmin: true };
      const [organization, user, key] = await Promise.all([
        deps.organizations.get(caller.orgId),
        deps.users.getUser(caller.orgId, caller.userId),
        deps.keys.get(caller.orgId, caller.keyId),
      ]);
      return {
        organization: toOrganization(organization),
        user: toUser(user),
        key: toKey(key),
        instanceAdmin: caller.instanceAdmin,
        organizationRole: toRoleValue(effectiveRole(caller, undefined)),
        projectRoles: await projectRoles(caller, grants),
      };
    },
    async testPermissions(req, ctx) {
      const caller = principalOf(ctx);
      if (req.methods.length > MAX_METHODS) throw new InvalidInputError("methods", `at most ${MAX_METHODS} methods per call`);
      const projectId = req.project ? await scopes.projectId(caller.orgId, f.datasetName("project", req.project)) : undefined;
      const permissions = req.methods.map((name, i) => {
        const found = methods.get(name);
        const rule = found && ruleOf(found[0], found[1]);
        if (!rule) throw new InvalidInputError(`methods[${i}]`, `unknown method ${JSON.stringify(name.slice(0, 200))}: use "traintrack.v1.DatasetService/CreateDataset"`);
        return { method: name, allowed: mayCall(rule, caller, projectId) };
      });
      return { permissions };
    },
  };
}

function toRoleValue(role: ReturnType<typeof effectiveRole>) {
  return role ? v.ROLE_VALUES[role] : 0;
}

/** Projects where the caller holds more than on the organisation, by name. */
async function projectRoles(caller: Principal, grants: GrantService) {
  const orgRole = effectiveRole(caller, undefined);
  const ids = [...caller.projectRoles.keys(), ...(caller.keyProjectId ? [caller.keyProjectId] : [])].slice(0, MAX_PROJECT_ROLES);
  const names = await grants.projectNames(caller.orgId, ids);
  return [...new Set(ids)]
    .map((id) => ({ id, role: effectiveRole(caller, id) }))
    .filter((p) => p.role && p.role !== orgRole && names.has(p.id))
    .map((p) => create(ProjectRoleSchema, { project: names.get(p.id), role: toRoleValue(p.role) }));
}
