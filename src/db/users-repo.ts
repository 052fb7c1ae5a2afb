/** Users, service accounts, groups and memberships of an organisation. Deleted users are invisible here. */
import type { Kysely, Selectable } from "kysely";
import type { Database, GroupsTable, UsersTable } from "./schema.js";

export type UserRow = Omit<Selectable<UsersTable>, "deletedAt" | "orgId">;
export type NewUserRow = Omit<UserRow, "createdAt" | "updatedAt" | "scimAttributes"> & { scimAttributes?: Record<string, unknown> };
export type GroupRow = Omit<Selectable<GroupsTable>, "orgId"> & { memberCount: number };

const USER_COLUMNS = ["id", "userName", "displayName", "email", "active", "serviceAccount", "instanceAdmin", "externalId", "scimAttributes", "createdAt", "updatedAt"] as const;

function users(db: Kysely<Database>, orgId: string) {
  return db.selectFrom("users").select(USER_COLUMNS).where("orgId", "=", orgId).where("deletedAt", "is", null);
}

export async function findUser(db: Kysely<Database>, orgId: string, id: string): Promise<UserRow | undefined> {
  return users(db, orgId).where("id", "=", id).executeTakeFirst();
}

export async function findUserByName(db: Kysely<Database>, orgId: string, userName: string): Promise<UserRow | undefined> {
  return users(db, orgId)
    .where((eb) => eb(eb.fn("lower", ["userName"]), "=", userName.toLowerCase()))
    .executeTakeFirst();
}

/** Locks the user's row for a change; undefined when there is none. */
export async function lockUser(db: Kysely<Database>, orgId: string, id: string): Promise<UserRow | undefined> {
  return users(db, orgId).where("id", "=", id).forUpdate().executeTakeFirst();
}

export interface UserListFilter {
  after?: { userName: string; id: string };
  limit: number;
  groupId?: string;
  includeInactive: boolean;
}

/** Users by lower-cased user name, then id. */
export async function listUsers(db: Kysely<Database>, orgId: string, f: UserListFilter): Promise<UserRow[]> {
  let q = users(db, orgId);
  if (!f.includeInactive) q = q.where("active", "=", true);
  if (f.groupId) q = q.where("id", "in", db.selectFrom("groupMembers").select("userId").where("groupId", "=", f.groupId));
  if (f.after) {
    const after = f.after;
    q = q.where((eb) =>
      eb.or([
        eb(eb.fn("lower", ["userName"]), ">", after.userName.toLowerCase()),
        eb.and([eb(eb.fn("lower", ["userName"]), "=", after.userName.toLowerCase()), eb("id", ">", after.id)]),
      ]),
    );
  }
  return q.orderBy((eb) => eb.fn("lower", ["userName"])).orderBy("id").limit(f.limit).execute();
}

/** Every user, for SCIM filters evaluated in memory: at most `limit`. */
export async function allUsers(db: Kysely<Database>, orgId: string, limit: number): Promise<UserRow[]> {
  return users(db, orgId).orderBy("createdAt").orderBy("id").limit(limit).execute();
}

export async function insertUser(db: Kysely<Database>, orgId: string, user: NewUserRow): Promise<UserRow> {
  return db
    .insertInto("users")
    .values({ ...user, orgId, scimAttributes: JSON.stringify(user.scimAttributes ?? {}) })
    .returning(USER_COLUMNS)
    .executeTakeFirstOrThrow();
}

export type UserChanges = Partial<Pick<UserRow, "userName" | "displayName" | "email" | "active" | "externalId" | "scimAttributes">>;

export async function updateUser(db: Kysely<Database>, orgId: string, id: string, changes: UserChanges, at: Date): Promise<UserRow> {
  const { scimAttributes, ...columns } = changes;
  return db
    .updateTable("users")
    .set({ ...columns, ...(scimAttributes ? { scimAttributes: JSON.stringify(scimAttributes) } : {}), updatedAt: at })
    .where("orgId", "=", orgId)
    .where("id", "=", id)
    .returning(USER_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** Deletes a user for good: its grants and memberships go; the row stays (inactive) for its keys and the audit log. */
export async function markUserDeleted(db: Kysely<Database>, orgId: string, id: string, at: Date): Promise<void> {
  await db.updateTable("users").set({ deletedAt: at, active: false, updatedAt: at }).where("orgId", "=", orgId).where("id", "=", id).execute();
  await db.deleteFrom("grants").where("orgId", "=", orgId).where("userId", "=", id).execute();
  await db.deleteFrom("groupMembers").where("orgId", "=", orgId).where("userId", "=", id).execute();
}

/** Revokes every key of a user; returns how many were still usable. */
export async function revokeKeysOfUser(db: Kysely<Database>, orgId: string, userId: string, at: Date): Promise<number> {
  const rows = await db
    .updateTable("apiKeys")
    .set({ revokedAt: at })
    .where("orgId", "=", orgId)
    .where("userId", "=", userId)
    .where("revokedAt", "is", null)
    .returning("id")
    .execute();
  return rows.length;
}

/** Of `ids`, those that are users of the organisation. */
export async function existingUserIds(db: Kysely<Database>, orgId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await users(db, orgId).where("id", "in", ids).execute();
  return new Set(rows.map((r) => r.id));
}

function groups(db: Kysely<Database>, orgId: string) {
  return db
    .selectFrom("groups as g")
    .select(["g.id", "g.displayName", "g.externalId", "g.createdAt", "g.updatedAt"])
    .select((eb) =>
      eb
        .selectFrom("groupMembers as m")
        .innerJoin("users as u", "u.id", "m.userId")
        .select(eb.fn.countAll<number>().as("n"))
        .whereRef("m.groupId", "=", "g.id")
        .where("u.deletedAt", "is", null)
        .as("memberCount"),
    )
    .where("g.orgId", "=", orgId);
}

const withCount = (row: Omit<GroupRow, "memberCount"> & { memberCount: number | string | null }): GroupRow => ({ ...row, memberCount: Number(row.memberCount ?? 0) });

export async function findGroup(db: Kysely<Database>, orgId: string, id: string): Promise<GroupRow | undefined> {
  const row = await groups(db, orgId).where("g.id", "=", id).executeTakeFirst();
  return row && withCount(row);
}

export async function lockGroup(db: Kysely<Database>, orgId: string, id: string): Promise<boolean> {
  const row = await db.selectFrom("groups").select("id").where("orgId", "=", orgId).where("id", "=", id).forUpdate().executeTakeFirst();
  return row !== undefined;
}

export async function listGroups(
  db: Kysely<Database>,
  orgId: string,
  f: { after?: { displayName: string; id: string }; limit: number; memberId?: string },
): Promise<GroupRow[]> {
  let q = groups(db, orgId);
  if (f.memberId) q = q.where("g.id", "in", db.selectFrom("groupMembers").select("groupId").where("userId", "=", f.memberId));
  if (f.after) {
    const after = f.after;
    q = q.where((eb) =>
      eb.or([
        eb(eb.fn("lower", ["g.displayName"]), ">", after.displayName.toLowerCase()),
        eb.and([eb(eb.fn("lower", ["g.displayName"]), "=", after.displayName.toLowerCase()), eb("g.id", ">", after.id)]),
      ]),
    );
  }
  const rows = await q.orderBy((eb) => eb.fn("lower", ["g.displayName"])).orderBy("g.id").limit(f.limit).execute();
  return rows.map(withCount);
}

export async function insertGroup(db: Kysely<Database>, orgId: string, group: { id: string; displayName: string; externalId: string }): Promise<void> {
  await db.insertInto("groups").values({ ...group, orgId }).execute();
}

export async function updateGroup(db: Kysely<Database>, orgId: string, id: string, changes: { displayName?: string; externalId?: string }, at: Date): Promise<void> {
  await db.updateTable("groups").set({ ...changes, updatedAt: at }).where("orgId", "=", orgId).where("id", "=", id).execute();
}

export async function deleteGroup(db: Kysely<Database>, orgId: string, id: string): Promise<void> {
  await db.deleteFrom("grants").where("orgId", "=", orgId).where("groupId", "=", id).execute();
  await db.deleteFrom("groups").where("orgId", "=", orgId).where("id", "=", id).execute();
}

export async function addMembers(db: Kysely<Database>, orgId: string, groupId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await db
    .insertInto("groupMembers")
    .values(userIds.map((userId) => ({ groupId, userId, orgId })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function removeMembers(db: Kysely<Database>, orgId: string, groupId: string, userIds: string[] | "all"): Promise<void> {
  let q = db.deleteFrom("groupMembers").where("orgId", "=", orgId).where("groupId", "=", groupId);
  if (userIds !== "all") {
    if (userIds.length === 0) return;
    q = q.where("userId", "in", userIds);
  }
  await q.execute();
}

/** A group's members (ids and user names), at most `limit`. */
export async function membersOf(db: Kysely<Database>, orgId: string, groupId: string, limit: number): Promise<{ id: string; userName: string }[]> {
  return db
    .selectFrom("groupMembers as m")
    .innerJoin("users as u", "u.id", "m.userId")
    .select(["u.id", "u.userName"])
    .where("m.orgId", "=", orgId)
    .where("m.groupId", "=", groupId)
    .where("u.deletedAt", "is", null)
    .orderBy("u.id")
    .limit(limit)
    .execute();
}

/** The groups of each of these users (id and display name). */
export async function groupsOfUsers(db: Kysely<Database>, orgId: string, userIds: string[]): Promise<Map<string, { id: string; displayName: string }[]>> {
  const out = new Map<string, { id: string; displayName: string }[]>();
  for (let i = 0; i < userIds.length; i += 1000) {
    const rows = await db
      .selectFrom("groupMembers as m")
      .innerJoin("groups as g", "g.id", "m.groupId")
      .select(["m.userId", "g.id", "g.displayName"])
      .where("m.orgId", "=", orgId)
      .where("m.userId", "in", userIds.slice(i, i + 1000))
      .execute();
    for (const r of rows) {
      const list = out.get(r.userId) ?? [];
      list.push({ id: r.id, displayName: r.displayName });
      out.set(r.userId, list);
    }
  }
  return out;
}

/** Every group, for SCIM filters evaluated in memory: at most `limit`. */
export async function allGroups(db: Kysely<Database>, orgId: string, limit: number): Promise<GroupRow[]> {
  const rows = await groups(db, orgId).orderBy("g.createdAt").orderBy("g.id").limit(limit).execute();
  return rows.map(withCount);
}
