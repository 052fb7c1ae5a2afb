/**
 * Users, service accounts and groups of an organisation: what the gRPC
 * UserService and SCIM's /Users and /Groups both change. Every change that
 * can alter someone's access runs under the organisation's access lock and
 * notifies every replica (lockAccess); one that would leave the organisation
 * without an active owner rolls back.
 */
import type { Kysely } from "kysely";
import { countActiveOwners, lockAccess } from "../../db/access-repo.js";
import { upsertGrant } from "../../db/grants-repo.js";
import { isUniqueViolation } from "../../db/pg-errors.js";
import type { Database } from "../../db/schema.js";
import * as repo from "../../db/users-repo.js";
import type { GroupRow, UserChanges, UserRow } from "../../db/users-repo.js";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "../errors.js";
import { newId } from "../ids.js";
import { decodeToken, isNameCursor, type Page, pageOf } from "../page-tokens.js";
import type { Role } from "./roles.js";

export type { GroupRow, UserRow } from "../../db/users-repo.js";

export interface NewUser {
  userName: string;
  displayName: string;
  email: string;
  serviceAccount: boolean;
  externalId: string;
  active: boolean;
  /** SCIM attributes beyond these (name, emails…). */
  scimAttributes?: Record<string, unknown>;
}

/** Members a group may be given in one call, and listed with it (SCIM). */
export const MAX_MEMBERS_PER_CALL = 1000;
export const MAX_MEMBERS_LISTED = 10_000;

export type UserDirectory = ReturnType<typeof createUserDirectory>;

export interface UserDirectoryDeps {
  db: Kysely<Database>;
  now: () => Date;
  /**
   * Called when an access change has committed, before the call that made it returns: this replica's
   * cache must not wait for the notification that tells the others.
   */
  accessChanged: (orgId: string) => void;
}

export function createUserDirectory(deps: UserDirectoryDeps) {
  const { db, now } = deps;

  /** Runs an access change: locked, announced to every replica, and refused if no active owner would be left. */
  async function changeAccess<T>(orgId: string, change: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    const result = await db.transaction().execute(async (trx) => {
      await lockAccess(trx, orgId);
      const result = await change(trx);
      if ((await countActiveOwners(trx, orgId)) === 0) {
        throw new FailedPreconditionError("this would leave the organisation without an active owner: make someone else an owner first");
      }
      return result;
    });
    deps.accessChanged(orgId);
    return result;
  }

  async function createUser(orgId: string, user: NewUser, role?: Role): Promise<UserRow> {
    try {
      return await db.transaction().execute(async (trx) => {
        const row = await repo.insertUser(trx, orgId, { id: newId("u"), instanceAdmin: false, ...user });
        if (role) await upsertGrant(trx, orgId, newId("gr"), { role, userId: row.id, groupId: null, projectId: null });
        return row;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`a user named ${JSON.stringify(user.userName)} exists already in this organisation`);
      throw error;
    }
  }

  async function getUser(orgId: string, id: string): Promise<UserRow> {
    const user = await repo.findUser(db, orgId, id);
    if (!user) throw new NotFoundError(`no user ${JSON.stringify(id)} in this organisation`);
    return user;
  }

  async function getUserByName(orgId: string, userName: string): Promise<UserRow> {
    const user = await repo.findUserByName(db, orgId, userName);
    if (!user) throw new NotFoundError(`no user named ${JSON.stringify(userName)} in this organisation`);
    return user;
  }

  async function listUsers(orgId: string, q: { pageSize: number; pageToken: string; groupId?: string; includeInactive: boolean }): Promise<Page<UserRow>> {
    const after = q.pageToken ? decodeToken(q.pageToken, isNameCursor("userName")) : undefined;
    const rows = await repo.listUsers(db, orgId, { after, limit: q.pageSize + 1, groupId: q.groupId, includeInactive: q.includeInactive });
    return pageOf(rows, q.pageSize, (last) => ({ userName: last.userName, id: last.id }));
  }

  /**
   * Changes a user. Deactivating revokes every key of the user at once (a
   * leaver's keys must not come back if the user is reactivated) and is
   * refused for the last active owner.
   */
  async function updateUser(orgId: string, id: string, changes: UserChanges): Promise<{ user: UserRow; keysRevoked: number }> {
    try {
      return await changeAccess(orgId, async (trx) => {
        const current = await repo.lockUser(trx, orgId, id);
        if (!current) throw new NotFoundError(`no user ${JSON.stringify(id)} in this organisation`);
        const user = await repo.updateUser(trx, orgId, id, changes, now());
        const keysRevoked = changes.active === false ? await repo.revokeKeysOfUser(trx, orgId, id, now()) : 0;
        return { user, keysRevoked };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`a user named ${JSON.stringify(changes.userName)} exists already in this organisation`);
      throw error;
    }
  }

  /** Deletes a user (SCIM DELETE): keys revoked, grants and memberships gone, the name free again. */
  async function deleteUser(orgId: string, id: string): Promise<void> {
    await changeAccess(orgId, async (trx) => {
      if (!(await repo.lockUser(trx, orgId, id))) throw new NotFoundError(`no user ${JSON.stringify(id)} in this organisation`);
      await repo.revokeKeysOfUser(trx, orgId, id, now());
      await repo.markUserDeleted(trx, orgId, id, now());
    });
  }

  async function checkMembers(trx: Kysely<Database>, orgId: string, userIds: string[]): Promise<string[]> {
    const unique = [...new Set(userIds)];
    const found = await repo.existingUserIds(trx, orgId, unique);
    const missing = unique.filter((id) => !found.has(id));
    if (missing.length > 0) throw new NotFoundError(`no user ${JSON.stringify(missing[0])} in this organisation`);
    return unique;
  }

  async function createGroup(orgId: string, g: { displayName: string; externalId: string; memberIds: string[] }): Promise<GroupRow> {
    const id = newId("g");
    try {
      await changeAccess(orgId, async (trx) => {
        await repo.insertGroup(trx, orgId, { id, displayName: g.displayName, externalId: g.externalId });
        await repo.addMembers(trx, orgId, id, await checkMembers(trx, orgId, g.memberIds));
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`a group named ${JSON.stringify(g.displayName)} exists already in this organisation`);
      throw error;
    }
    return getGroup(orgId, id);
  }

  async function getGroup(orgId: string, id: string): Promise<GroupRow> {
    const group = await repo.findGroup(db, orgId, id);
    if (!group) throw new NotFoundError(`no group ${JSON.stringify(id)} in this organisation`);
    return group;
  }

  async function listGroups(orgId: string, q: { pageSize: number; pageToken: string; memberId?: string }): Promise<Page<GroupRow>> {
    const after = q.pageToken ? decodeToken(q.pageToken, isNameCursor("displayName")) : undefined;
    const rows = await repo.listGroups(db, orgId, { after, limit: q.pageSize + 1, memberId: q.memberId });
    return pageOf(rows, q.pageSize, (last) => ({ displayName: last.displayName, id: last.id }));
  }

  /**
   * Changes a group in one transaction: its names, and its members (added,
   * removed, or all replaced). Refused when it would leave no active owner.
   */
  async function changeGroup(
    orgId: string,
    id: string,
    change: { displayName?: string; externalId?: string; add?: string[]; remove?: string[]; replaceMembers?: string[] },
  ): Promise<GroupRow> {
    try {
      await changeAccess(orgId, async (trx) => {
        if (!(await repo.lockGroup(trx, orgId, id))) throw new NotFoundError(`no group ${JSON.stringify(id)} in this organisation`);
        if (change.displayName !== undefined || change.externalId !== undefined) {
          await repo.updateGroup(trx, orgId, id, { displayName: change.displayName, externalId: change.externalId }, now());
        }
        if (change.replaceMembers) {
          await repo.removeMembers(trx, orgId, id, "all");
          await repo.addMembers(trx, orgId, id, await checkMembers(trx, orgId, change.replaceMembers));
        }
        if (change.remove) await repo.removeMembers(trx, orgId, id, change.remove);
        if (change.add) await repo.addMembers(trx, orgId, id, await checkMembers(trx, orgId, change.add));
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`a group named ${JSON.stringify(change.displayName)} exists already in this organisation`);
      throw error;
    }
    return getGroup(orgId, id);
  }

  async function deleteGroup(orgId: string, id: string): Promise<void> {
    await changeAccess(orgId, async (trx) => {
      if (!(await repo.lockGroup(trx, orgId, id))) throw new NotFoundError(`no group ${JSON.stringify(id)} in this organisation`);
      await repo.deleteGroup(trx, orgId, id);
    });
  }

  const membersOf = (orgId: string, groupId: string) => repo.membersOf(db, orgId, groupId, MAX_MEMBERS_LISTED);
  const groupsOfUsers = (orgId: string, userIds: string[]) => repo.groupsOfUsers(db, orgId, userIds);
  /** Every user or group, at most `limit` (SCIM filters them in memory). */
  const allUsers = (orgId: string, limit: number) => repo.allUsers(db, orgId, limit);
  const allGroups = (orgId: string, limit: number) => repo.allGroups(db, orgId, limit);
  const findUserByName = (orgId: string, userName: string) => repo.findUserByName(db, orgId, userName);

  return {
    createUser,
    getUser,
    getUserByName,
    findUserByName,
    listUsers,
    allUsers,
    updateUser,
    deleteUser,
    createGroup,
    getGroup,
    listGroups,
    allGroups,
    changeGroup,
    deleteGroup,
    membersOf,
    groupsOfUsers,
    changeAccess,
  };
}
