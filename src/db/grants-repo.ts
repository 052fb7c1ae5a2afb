/** Grants of roles to users and groups, on the organisation or on one project. */
import type { Kysely } from "kysely";
import type { Database, Role } from "./schema.js";

export interface GrantRow {
  id: string;
  role: Role;
  userId: string | null;
  groupId: string | null;
  projectId: string | null;
  /** The project's name; null for the organisation. */
  project: string | null;
  createdAt: Date;
}

export interface GrantKey {
  role: Role;
  userId: string | null;
  groupId: string | null;
  projectId: string | null;
}

function grants(db: Kysely<Database>, orgId: string) {
  return db
    .selectFrom("grants as g")
    .leftJoin("projects as p", "p.id", "g.projectId")
    .select(["g.id", "g.role", "g.userId", "g.groupId", "g.projectId", "p.name as project", "g.createdAt"])
    .where("g.orgId", "=", orgId);
}

/** Inserts a grant unless the same one exists; returns it either way. */
export async function upsertGrant(db: Kysely<Database>, orgId: string, id: string, key: GrantKey): Promise<GrantRow> {
  const existing = await findGrant(db, orgId, key);
  if (existing) return existing;
  await db.insertInto("grants").values({ id, orgId, ...key }).execute();
  return (await findGrant(db, orgId, key)) as GrantRow;
}

export async function findGrant(db: Kysely<Database>, orgId: string, key: GrantKey): Promise<GrantRow | undefined> {
  return grants(db, orgId)
    .where("g.role", "=", key.role)
    .where("g.userId", key.userId === null ? "is" : "=", key.userId)
    .where("g.groupId", key.groupId === null ? "is" : "=", key.groupId)
    .where("g.projectId", key.projectId === null ? "is" : "=", key.projectId)
    .executeTakeFirst();
}

export async function findGrantById(db: Kysely<Database>, orgId: string, id: string): Promise<GrantRow | undefined> {
  return grants(db, orgId).where("g.id", "=", id).executeTakeFirst();
}

export async function deleteGrant(db: Kysely<Database>, orgId: string, id: string): Promise<void> {
  await db.deleteFrom("grants").where("orgId", "=", orgId).where("id", "=", id).execute();
}

export interface GrantFilter {
  userId?: string;
  groupId?: string;
  projectId?: string;
  afterId?: string;
  limit: number;
}

export async function listGrants(db: Kysely<Database>, orgId: string, f: GrantFilter): Promise<GrantRow[]> {
  let q = grants(db, orgId);
  if (f.userId) q = q.where("g.userId", "=", f.userId);
  if (f.groupId) q = q.where("g.groupId", "=", f.groupId);
  if (f.projectId) q = q.where("g.projectId", "=", f.projectId);
  if (f.afterId) q = q.where("g.id", ">", f.afterId);
  return q.orderBy("g.id").limit(f.limit).execute();
}

/** The id of a project by its name, if the organisation has one. */
export async function projectIdByName(db: Kysely<Database>, orgId: string, name: string): Promise<string | undefined> {
  const row = await db.selectFrom("projects").select("id").where("orgId", "=", orgId).where("name", "=", name).executeTakeFirst();
  return row?.id;
}

/** Project names by id, for showing grants and keys. */
export async function projectNames(db: Kysely<Database>, orgId: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom("projects").select(["id", "name"]).where("orgId", "=", orgId).where("id", "in", ids).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
