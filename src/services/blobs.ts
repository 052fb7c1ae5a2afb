/**
 * Leases on permanent, content-addressed blobs. Whoever is about to write a
 * blob, or to reference one, leases its row first; the janitor deletes only
 * rows that are unreferenced and whose lease has run out, so a blob is never
 * deleted under a writer that is still going to use it.
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.js";
import { ConflictError } from "./errors.js";

const BATCH = 1000;

/**
 * Leases a row per (hash, size) until at least `leaseUntil`, all or none. Returns the hashes whose rows existed before: only their
 * objects may already be in place. A blob the janitor is deleting at this
 * moment is a ConflictError, which the caller may retry.
 */
export async function leaseBlobs(db: Kysely<Database>, orgId: string, blobs: ReadonlyMap<string, number>, leaseUntil: Date): Promise<Set<string>> {
  const existed = new Set<string>();
  const entries = [...blobs];
  if (entries.length === 0) return existed; // a version of metadata alone
  const leaseBatch = async (executor: Kysely<Database>, batch: typeof entries) => {
    const leased = await executor
      .insertInto("blobs")
      .values(batch.map(([sha256, size]) => ({ orgId, sha256, size, state: "live" as const, leaseUntil })))
      .onConflict((oc) =>
        oc
          .columns(["orgId", "sha256"])
          .doUpdateSet({ leaseUntil: sql`greatest(blobs.lease_until, excluded.lease_until)` })
          .where("blobs.state", "=", "live"),
      )
      // xmax is 0 on a freshly inserted row version and set on an updated one.
      .returning(["sha256", sql<boolean>`xmax <> 0`.as("existed")])
      .execute();
    if (leased.length !== batch.length) {
      throw new ConflictError("some of these bytes are being garbage-collected at this moment; retry");
    }
    for (const row of leased) if (row.existed) existed.add(row.sha256);
  };
  // One statement is atomic by itself; every small upload leases one blob, so skip BEGIN/COMMIT.
  if (entries.length <= BATCH) {
    await leaseBatch(db, entries);
  } else {
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < entries.length; i += BATCH) await leaseBatch(trx, entries.slice(i, i + BATCH));
    });
  }
  return existed;
}
