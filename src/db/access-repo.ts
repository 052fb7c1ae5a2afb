/** Keys, grants and what they add up to: the rows behind every authorisation decision. */
import { type Kysely, sql } from "kysely";
import { lockInTransaction } from "./advisory-lock.js";
import type { Database, KeyScope, Role } from "./schema.js";

export interface KeyHolder {
  keyId: string;
  orgId: string;
  userId: string;
  scope: KeyScope;
  projectId: string | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  instanceAdmin: boolean;
}

/** The key with this hash if it can be used now: not revoked, not expired, its user active. */
export async function findUsableKey(db: Kysely<Database>, keyHash: string, now: Date): Promise<KeyHolder | undefined> {
  return db
    .selectFrom("apiKeys as k")
    .innerJoin("users as u", "u.id", "k.userId")
    .select(["k.id as keyId", "k.orgId", "k.userId", "k.scope", "k.projectId", "k.expiresAt", "k.lastUsedAt", "u.instanceAdmin"])
    .where("k.keyHash", "=", keyHash)
    .where("k.revokedAt", "is", null)
    .where("u.active", "=", true)
    .where((eb) => eb.or([eb("k.expiresAt", "is", null), eb("k.expiresAt", ">", now)]))
    .executeTakeFirst();
}

/** Every grant that applies to a user: its own and its groups'. */
export async function grantsOfUser(db: Kysely<Database>, orgId: string, userId: string): Promise<{ role: Role; projectId: string | null }[]> {
  return db
    .selectFrom("grants")
    .select(["role", "projectId"])
    .where("orgId", "=", orgId)
    .where((eb) =>
      eb.or([
        eb("userId", "=", userId),
        eb("groupId", "in", eb.selectFrom("groupMembers").select("groupId").where("userId", "=", userId)),
      ]),
    )
    .execute();
}

/** Records that keys were used (at most once a minute each: see the authenticator). */
export async function touchKeys(db: Kysely<Database>, keyIds: string[], at: Date): Promise<void> {
  if (keyIds.length === 0) return;
  await db.updateTable("apiKeys").set({ lastUsedAt: at }).where("id", "in", keyIds).execute();
}

/**
 * Active users who own the organisation, directly or through a group. Run in
 * the transaction that removed an owner, after `lockAccess`: zero means the
 * change must roll back.
 */
export async function countActiveOwners(db: Kysely<Database>, orgId: string): Promise<number> {
  const row = await db
    .selectFrom("users as u")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("u.orgId", "=", orgId)
    .where("u.active", "=", true)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("grants as g")
          .select(sql`1`.as("one"))
          .where("g.orgId", "=", orgId)
          .where("g.role", "=", "owner")
          .where("g.projectId", "is", null)
          .where((w) =>
            w.or([
              w("g.userId", "=", w.ref("u.id")),
              w("g.groupId", "in", w.selectFrom("groupMembers as m").select("m.groupId").where("m.userId", "=", w.ref("u.id"))),
            ]),
          ),
      ),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Serialises changes to an organisation's access (so that two replicas
 * demoting the last two owners at once cannot both succeed), and tells every
 * replica, when the transaction commits, to forget what it cached about the
 * organisation's keys (NOTIFY is delivered at commit, and not at all on rollback).
 */
export async function lockAccess(trx: Kysely<Database>, orgId: string): Promise<void> {
  await lockInTransaction(trx, ACCESS_LOCK_SPACE, orgId);
  await sql`select pg_notify(${ACCESS_CHANNEL}, ${orgId})`.execute(trx);
}

/** The channel on which access changes are announced; the payload is the organisation id. */
export const ACCESS_CHANNEL = "traintrack_access";
/** Advisory lock namespace for access changes: "ta". */
const ACCESS_LOCK_SPACE = 0x7461;
