/** Organisations: the tenants of an instance. */
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface OrganizationRow {
  id: string;
  name: string;
  createdAt: Date;
}

const COLUMNS = ["id", "name", "createdAt"] as const;

export async function insertOrganization(db: Kysely<Database>, id: string, name: string): Promise<OrganizationRow> {
  return db.insertInto("organizations").values({ id, name }).returning(COLUMNS).executeTakeFirstOrThrow();
}

export async function findOrganization(db: Kysely<Database>, id: string): Promise<OrganizationRow | undefined> {
  return db.selectFrom("organizations").select(COLUMNS).where("id", "=", id).executeTakeFirst();
}

export async function anyOrganizationExists(db: Kysely<Database>): Promise<boolean> {
  return (await db.selectFrom("organizations").select("id").limit(1).executeTakeFirst()) !== undefined;
}

/** By name, after `afterName`. */
export async function listOrganizations(db: Kysely<Database>, afterName: string | undefined, limit: number): Promise<OrganizationRow[]> {
  let q = db.selectFrom("organizations").select(COLUMNS);
  if (afterName !== undefined) q = q.where("name", ">", afterName);
  return q.orderBy("name").limit(limit).execute();
}
