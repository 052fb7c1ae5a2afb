/** API keys as their owners and administrators see them: never their secrets, only a hash and a prefix. */
import type { Kysely } from "kysely";
import type { Database, KeyScope } from "./schema.js";

export interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  userId: string;
  scope: KeyScope;
  projectId: string | null;
  project: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

function keys(db: Kysely<Database>, orgId: string) {
  return db
    .selectFrom("apiKeys as k")
    .leftJoin("projects as p", "p.id", "k.projectId")
    .select(["k.id", "k.name", "k.prefix", "k.userId", "k.scope", "k.projectId", "p.name as project", "k.createdAt", "k.lastUsedAt", "k.expiresAt", "k.revokedAt"])
    .where("k.orgId", "=", orgId);
}

export interface NewKey {
  id: string;
  userId: string;
  name: string;
  keyHash: string;
  prefix: string;
  scope: KeyScope;
  projectId: string | null;
  expiresAt: Date | null;
}

export async function insertKey(db: Kysely<Database>, orgId: string, key: NewKey): Promise<KeyRow> {
  await db.insertInto("apiKeys").values({ ...key, orgId, revokedAt: null }).execute();
  return (await findKey(db, orgId, key.id)) as KeyRow;
}

export async function findKey(db: Kysely<Database>, orgId: string, id: string): Promise<KeyRow | undefined> {
  return keys(db, orgId).where("k.id", "=", id).executeTakeFirst();
}

export async function revokeKey(db: Kysely<Database>, orgId: string, id: string, at: Date): Promise<void> {
  await db.updateTable("apiKeys").set({ revokedAt: at }).where("orgId", "=", orgId).where("id", "=", id).where("revokedAt", "is", null).execute();
}

/** Newest first: (createdAt, id) descending. */
export async function listKeys(
  db: Kysely<Database>,
  orgId: string,
  f: { userId?: string; includeRevoked: boolean; before?: { createdAt: Date; id: string }; limit: number },
): Promise<KeyRow[]> {
  let q = keys(db, orgId);
  if (f.userId) q = q.where("k.userId", "=", f.userId);
  if (!f.includeRevoked) q = q.where("k.revokedAt", "is", null);
  if (f.before) {
    const before = f.before;
    q = q.where((eb) => eb.or([eb("k.createdAt", "<", before.createdAt), eb.and([eb("k.createdAt", "=", before.createdAt), eb("k.id", "<", before.id)])]));
  }
  return q.orderBy("k.createdAt", "desc").orderBy("k.id", "desc").limit(f.limit).execute();
}
