/**
 * Granting and revoking roles. The policy table has already checked that the
 * caller maintains the scope; here the rest of the rule: nobody grants (or
 * revokes) more than they hold, owner is granted on the organisation only, and
 * no change leaves the organisation without an active owner.
 */
import type { Kysely } from "kysely";
import * as grantsRepo from "../../db/grants-repo.js";
import type { GrantRow } from "../../db/grants-repo.js";
import { ensureProject } from "../../db/experiments-repo.js";
import type { Database } from "../../db/schema.js";
import { findGroup, findUser } from "../../db/users-repo.js";
import { InvalidInputError, NotFoundError, PermissionDeniedError } from "../errors.js";
import { newId } from "../ids.js";
import { decodeToken, isString, type Page, pageOf } from "../page-tokens.js";
import { effectiveRole, includes, type Principal, type Role } from "./roles.js";
import type { UserDirectory } from "./users.js";

export type { GrantRow } from "../../db/grants-repo.js";

export interface GrantSpec {
  role: Role;
  userId?: string;
  groupId?: string;
  /** A project's name; undefined: the organisation. */
  project?: string;
}

export type GrantService = ReturnType<typeof createGrantService>;

export function createGrantService(deps: { db: Kysely<Database>; users: UserDirectory }) {
  const { db, users } = deps;

  async function projectId(orgId: string, project: string | undefined): Promise<string | null> {
    if (project === undefined) return null;
    const id = await grantsRepo.projectIdByName(db, orgId, project);
    if (!id) throw new NotFoundError(`no project ${JSON.stringify(project)} in this organisation: create it first`);
    return id;
  }

  function mayHandle(caller: Principal, role: Role, scopeProjectId: string | null, verb: string): void {
    const held = effectiveRole(caller, scopeProjectId ?? undefined);
    if (role === "owner" ? held !== "owner" : !includes(held, role) || !includes(held, "maintainer")) {
      throw new PermissionDeniedError(`you may not ${verb} ${role}: nobody ${verb}s a role higher than their own, and only owners ${verb} owner`);
    }
  }

  async function keyOf(orgId: string, spec: GrantSpec, createProject = false): Promise<grantsRepo.GrantKey> {
    // Access is often set up before the work starts: granting on a project that does not exist yet creates it
    // (the policy asked for the role on the organisation then, as for any call that creates a project).
    const id =
      spec.project !== undefined && createProject
        ? (await ensureProject(db, { id: newId("prj"), orgId, name: spec.project, description: "" })).id
        : await projectId(orgId, spec.project);
    return { role: spec.role, userId: spec.userId ?? null, groupId: spec.groupId ?? null, projectId: id };
  }

  async function grant(caller: Principal, spec: GrantSpec): Promise<GrantRow> {
    const { orgId } = caller;
    if (spec.role === "owner" && spec.project !== undefined) throw new InvalidInputError("role", "ROLE_OWNER is for the organisation only: grant ROLE_MAINTAINER on a project");
    const existing = spec.project === undefined ? undefined : await grantsRepo.projectIdByName(db, orgId, spec.project);
    mayHandle(caller, spec.role, existing ?? null, "grant");
    const key = await keyOf(orgId, spec, true);
    if (key.userId && !(await findUser(db, orgId, key.userId))) throw new NotFoundError(`no user ${JSON.stringify(key.userId)} in this organisation`);
    if (key.groupId && !(await findGroup(db, orgId, key.groupId))) throw new NotFoundError(`no group ${JSON.stringify(key.groupId)} in this organisation`);
    return users.changeAccess(orgId, (trx) => grantsRepo.upsertGrant(trx, orgId, newId("gr"), key));
  }

  /** Revokes a grant, by id or by what it grants; false when there was none (a retry after success). */
  async function revoke(caller: Principal, target: { grantId: string } | GrantSpec): Promise<boolean> {
    const { orgId } = caller;
    const found = "grantId" in target ? await grantsRepo.findGrantById(db, orgId, target.grantId) : await grantsRepo.findGrant(db, orgId, await keyOf(orgId, target));
    if (!found) return false;
    mayHandle(caller, found.role, found.projectId, "revoke");
    await users.changeAccess(orgId, (trx) => grantsRepo.deleteGrant(trx, orgId, found.id));
    return true;
  }

  async function list(orgId: string, q: { pageSize: number; pageToken: string; userId?: string; groupId?: string; project?: string }): Promise<Page<GrantRow>> {
    const afterId = q.pageToken ? decodeToken(q.pageToken, isString) : undefined;
    const rows = await grantsRepo.listGrants(db, orgId, {
      userId: q.userId,
      groupId: q.groupId,
      projectId: (await projectId(orgId, q.project)) ?? undefined,
      afterId,
      limit: q.pageSize + 1,
    });
    return pageOf(rows, q.pageSize, (last) => last.id);
  }

  /** Project names by id (for WhoAmI's project roles). */
  const projectNames = (orgId: string, ids: string[]) => grantsRepo.projectNames(db, orgId, ids);

  return { grant, revoke, list, projectNames };
}
