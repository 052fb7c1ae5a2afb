// Frozen in time: never import application code here, never edit after it has shipped.
import { type Kysely, sql } from "kysely";

// A blob marked for deletion names the janitor pass that marked it and when,
// so that only that pass deletes its object and row, and a later pass takes
// a claim over only once it is old enough that its pass must have died.
// Rows marked "deleting" before this migration belong to no known pass: they
// count as claimed now, by nobody, and are taken over once that claim ages.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("blobs").addColumn("claimed_by", "text").addColumn("claimed_at", "timestamptz").execute();
  await sql`update blobs set claimed_by = 'unknown', claimed_at = now() where state = 'deleting'`.execute(db);
  // The janitor looks for claims by owner and by age, and for leases that ran out; both are a small part of the table.
  await sql`create index blobs_claims on blobs (claimed_by, claimed_at) where state = 'deleting'`.execute(db);
  await sql`create index blobs_live_leases on blobs (lease_until) where state = 'live'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index blobs_live_leases`.execute(db);
  await sql`drop index blobs_claims`.execute(db);
  await db.schema.alterTable("blobs").dropColumn("claimed_at").dropColumn("claimed_by").execute();
}
