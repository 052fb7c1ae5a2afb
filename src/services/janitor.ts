/**
 * The janitor reclaims what uploads and commits leave behind: expired
 * uploads, staged segments of finished uploads, and permanent blobs that no
 * artefact (of a dataset version or a run) references once their commit
 * lease has run out. Every pass is safe to run at any time, on any replica,
 * concurrently with commits.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { mapConcurrent } from "../util/map-concurrent.js";
import { blobKey } from "./object-keys.js";
import type { UploadService } from "./uploads.js";

export interface JanitorDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  uploads: Pick<UploadService, "purgeStaging">;
  /** Staged objects younger than this are left alone: a stream may still be writing them. */
  stagingGraceMs?: number;
}

export interface JanitorReport {
  expiredUploads: number;
  purgedUploads: number;
  orphanStagedObjects: number;
  deletedBlobs: number;
}

const BATCH = 500;

export function createJanitor(deps: JanitorDeps) {
  const { db, store } = deps;
  const graceMs = deps.stagingGraceMs ?? 60_000;

  async function expireUploads(now: Date): Promise<number> {
    const expired = await db
      .updateTable("uploads")
      .set({ state: "discarded", discardReason: "expired", writerToken: null, writerLeaseUntil: null, updatedAt: now })
      .where("state", "in", ["in_progress", "complete"])
      .where("expiresAt", "<", now)
      .returningAll()
      .execute();
    // No stream writes an expired upload (each durable segment extends the expiry), so purge now.
    await mapConcurrent(expired, 8, (row) => deps.uploads.purgeStaging(row));
    return expired.length;
  }

  /** Deletes staged segments of committed and discarded uploads whose streams are over. */
  async function purgeFinished(now: Date): Promise<number> {
    const rows = await db
      .selectFrom("uploads")
      .selectAll()
      .where("stagingPurged", "=", false)
      .where("state", "in", ["committed", "discarded"])
      .where("updatedAt", "<", new Date(now.getTime() - graceMs))
      .limit(BATCH)
      .execute();
    await mapConcurrent(rows, 8, (row) => deps.uploads.purgeStaging(row));
    return rows.length;
  }

  /** Staged objects whose upload is unknown or finished and purged (a stream's late put, a crash mid-purge). */
  async function sweepOrphanStaging(now: Date): Promise<number> {
    const byUpload = new Map<string, string[]>();
    for await (const object of store.list("staging/")) {
      if (now.getTime() - object.lastModified.getTime() < graceMs) continue;
      const uploadId = object.key.split("/")[2] ?? "";
      byUpload.set(uploadId, [...(byUpload.get(uploadId) ?? []), object.key]);
    }
    const ids = [...byUpload.keys()];
    const live = new Set<string>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const rows = await db
        .selectFrom("uploads")
        .select("id")
        .where("id", "in", ids.slice(i, i + BATCH))
        .where((eb) => eb.or([eb("state", "in", ["in_progress", "complete"]), eb("stagingPurged", "=", false)]))
        .execute();
      for (const row of rows) live.add(row.id);
    }
    const orphans = ids.filter((id) => !live.has(id)).flatMap((id) => byUpload.get(id) ?? []);
    await store.delete(orphans);
    return orphans.length;
  }

  /**
   * Deletes blobs that nothing references and no commit holds a lease on.
   * Rows are marked "deleting" first (skipping rows an in-flight commit has
   * locked), so a commit can never adopt a blob whose object is going away.
   */
  async function collectBlobs(now: Date): Promise<number> {
    await db.transaction().execute(async (trx) => {
      const doomed = await trx
        .selectFrom("blobs as b")
        .select(["b.orgId", "b.sha256"])
        .where("b.state", "=", "live")
        .where("b.leaseUntil", "<", now)
        .where((eb) =>
          eb.not(
            eb.or([
              eb.exists(eb.selectFrom("artefacts as a").select("a.sha256").whereRef("a.orgId", "=", "b.orgId").whereRef("a.sha256", "=", "b.sha256")),
              eb.exists(eb.selectFrom("runArtefacts as r").select("r.sha256").whereRef("r.orgId", "=", "b.orgId").whereRef("r.sha256", "=", "b.sha256")),
            ]),
          ),
        )
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const blob of doomed) {
        await trx.updateTable("blobs").set({ state: "deleting" }).where("orgId", "=", blob.orgId).where("sha256", "=", blob.sha256).execute();
      }
    });
    // Also finishes deletions a crash interrupted.
    const deleting = await db.selectFrom("blobs").select(["orgId", "sha256"]).where("state", "=", "deleting").limit(BATCH).execute();
    await store.delete(deleting.map((b) => blobKey(b.orgId, b.sha256)));
    for (const blob of deleting) {
      await db.deleteFrom("blobs").where("orgId", "=", blob.orgId).where("sha256", "=", blob.sha256).where("state", "=", "deleting").execute();
    }
    return deleting.length;
  }

  /** One cleanup pass. `now` is injectable so tests can look past leases and grace periods. */
  async function runOnce(now: Date = new Date()): Promise<JanitorReport> {
    const expiredUploads = await expireUploads(now);
    const purgedUploads = await purgeFinished(now);
    const orphanStagedObjects = await sweepOrphanStaging(now);
    const deletedBlobs = await collectBlobs(now);
    return { expiredUploads, purgedUploads, orphanStagedObjects, deletedBlobs };
  }

  return { runOnce };
}
