/**
 * The janitor's side of the `blobs` table: claiming unreferenced rows whose
 * lease ran out, re-checking them, and deleting them, always as the pass that
 * claimed them. (Commits lease rows through services/blobs.ts.)
 */
import type { ExpressionBuilder, Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface BlobRef {
  orgId: string;
  sha256: string;
  physicalKey: string;
}

/** Where the one object holding a blob's bytes is; undefined when there is no such blob. */
export async function blobObjectKey(db: Kysely<Database>, orgId: string, sha256: string): Promise<string | undefined> {
  const row = await db.selectFrom("blobs").select("physicalKey").where("orgId", "=", orgId).where("sha256", "=", sha256).executeTakeFirst();
  return row?.physicalKey;
}

/** No artefact of a dataset version or a run, and no model file, holds the blob's bytes. */
function unreferenced(eb: ExpressionBuilder<Database & { b: Database["blobs"] }, "b">) {
  return eb.not(
    eb.or([
      eb.exists(eb.selectFrom("artefacts as a").select("a.sha256").whereRef("a.orgId", "=", "b.orgId").whereRef("a.sha256", "=", "b.sha256")),
      eb.exists(eb.selectFrom("runArtefacts as r").select("r.sha256").whereRef("r.orgId", "=", "b.orgId").whereRef("r.sha256", "=", "b.sha256")),
      eb.exists(eb.selectFrom("modelFiles as m").select("m.sha256").whereRef("m.orgId", "=", "b.orgId").whereRef("m.sha256", "=", "b.sha256")),
    ]),
  );
}

/**
 * Marks up to `limit` live, unreferenced rows whose lease ran out before `now`
 * as "deleting", claimed by `pass`; rows a commit holds locked are skipped.
 * Returns how many it claimed.
 */
export async function claimExpired(db: Kysely<Database>, pass: string, now: Date, limit: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const doomed = await trx
      .selectFrom("blobs as b")
      .select(["b.orgId", "b.sha256"])
      .where("b.state", "=", "live")
      .where("b.leaseUntil", "<", now)
      .where(unreferenced)
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    await markClaimed(trx, doomed, pass, now);
    return doomed.length;
  });
}

/** Takes over up to `limit` claims made before `staleBefore` by passes that must have died. Returns how many. */
export async function takeOverStale(db: Kysely<Database>, pass: string, now: Date, staleBefore: Date, limit: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const stale = await trx
      .selectFrom("blobs")
      .select(["orgId", "sha256"])
      .where("state", "=", "deleting")
      .where("claimedBy", "<>", pass)
      .where("claimedAt", "<", staleBefore)
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    await markClaimed(trx, stale, pass, now);
    return stale.length;
  });
}

async function markClaimed(trx: Kysely<Database>, rows: readonly Omit<BlobRef, "physicalKey">[], pass: string, now: Date): Promise<void> {
  for (const row of rows) {
    await trx
      .updateTable("blobs")
      .set({ state: "deleting", claimedBy: pass, claimedAt: now })
      .where("orgId", "=", row.orgId)
      .where("sha256", "=", row.sha256)
      .execute();
  }
}

/**
 * The claims of `pass` that are still to be deleted, after a re-check in a
 * fresh statement (so it sees every commit that ended before the claim locked
 * the row): a claim that became referenced, or whose lease was renewed, goes
 * back to "live". No commit can reference or lease a "deleting" row, so the
 * rows returned stay safe to delete.
 */
export async function recheckClaims(db: Kysely<Database>, pass: string, now: Date): Promise<BlobRef[]> {
  await db
    .updateTable("blobs as b")
    .set({ state: "live", claimedBy: null, claimedAt: null })
    .where("b.state", "=", "deleting")
    .where("b.claimedBy", "=", pass)
    .where((eb) => eb.or([eb("b.leaseUntil", ">=", now), eb.not(unreferenced(eb))]))
    .execute();
  return db.selectFrom("blobs").select(["orgId", "sha256", "physicalKey"]).where("state", "=", "deleting").where("claimedBy", "=", pass).execute();
}

/** Deletes the rows `pass` claimed, once their objects are gone; a row claimed by another pass is left alone. */
export async function deleteClaimed(db: Kysely<Database>, pass: string): Promise<number> {
  const deleted = await db.deleteFrom("blobs").where("state", "=", "deleting").where("claimedBy", "=", pass).executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
