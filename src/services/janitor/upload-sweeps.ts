/**
 * The janitor's sweeps over uploads: expired uploads, what finished ones
 * left behind (duplicate objects, unfinished parts, segments staged by earlier
 * versions), objects started in parts that no upload in progress owns, and
 * staged objects no live upload owns. Each works in batches until nothing is
 * left or the pass's budget runs out.
 */
import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";
import type { ObjectInfo, ObjectStore, StartedObject } from "../../storage/object-store.js";
import { mapConcurrent } from "../../util/map-concurrent.js";
import { UPLOAD_OBJECTS, uploadIdOfObject } from "../object-keys.js";
import type { UploadService } from "../uploads.js";
import { BATCH, type Budget, type SweepResult } from "./budget.js";

export interface UploadSweepDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  uploads: Pick<UploadService, "purgeStaging">;
  /** Staged objects younger than this are left alone: a stream may still be writing them. */
  stagingGraceMs: number;
}

const OPEN = ["in_progress", "complete"] as const;

export function createUploadSweeps(deps: UploadSweepDeps) {
  const { db, store } = deps;

  /** Discards uploads past their expiry, and purges their staging at once: no stream writes an expired upload. */
  async function expireUploads(now: Date, budget: Budget): Promise<SweepResult> {
    let count = 0;
    while (budget.left()) {
      const ids = await db.selectFrom("uploads").select("id").where("state", "in", OPEN).where("expiresAt", "<", now).limit(BATCH).execute();
      if (ids.length === 0) return { count, drained: true };
      const expired = await db
        .updateTable("uploads")
        .set({ state: "discarded", discardReason: "expired", writerToken: null, writerLeaseUntil: null, updatedAt: now })
        .where(
          "id",
          "in",
          ids.map((r) => r.id),
        )
        .where("state", "in", OPEN)
        .where("expiresAt", "<", now)
        .returningAll()
        .execute();
      await mapConcurrent(expired, 8, (row) => deps.uploads.purgeStaging(row));
      count += expired.length;
    }
    return { count, drained: false };
  }

  /** Deletes staged segments of committed and discarded uploads whose streams are over. */
  async function purgeFinished(now: Date, budget: Budget): Promise<SweepResult> {
    let count = 0;
    while (budget.left()) {
      const rows = await db
        .selectFrom("uploads")
        .selectAll()
        .where("stagingPurged", "=", false)
        .where("state", "in", ["committed", "discarded"])
        .where("updatedAt", "<", new Date(now.getTime() - deps.stagingGraceMs))
        .limit(BATCH)
        .execute();
      if (rows.length === 0) return { count, drained: true };
      // purgeStaging marks each purged, so the next batch holds other uploads.
      await mapConcurrent(rows, 8, (row) => deps.uploads.purgeStaging(row));
      count += rows.length;
    }
    return { count, drained: false };
  }

  /** Deletes `objects` (staged, grouped by upload id) whose upload is unknown, or finished and purged. */
  async function deleteOrphans(byUpload: Map<string, string[]>): Promise<number> {
    const ids = [...byUpload.keys()];
    const live = new Set<string>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const rows = await db
        .selectFrom("uploads")
        .select("id")
        .where("id", "in", ids.slice(i, i + BATCH))
        .where((eb) => eb.or([eb("state", "in", OPEN), eb("stagingPurged", "=", false)]))
        .execute();
      for (const row of rows) live.add(row.id);
    }
    const orphans = ids.filter((id) => !live.has(id)).flatMap((id) => byUpload.get(id) ?? []);
    await store.delete(orphans);
    return orphans.length;
  }

  /** Staged objects whose upload is unknown or finished and purged (a stream's late put, a crash mid-purge), a page at a time. */
  async function sweepOrphanStaging(now: Date, budget: Budget): Promise<SweepResult> {
    let count = 0;
    let page = new Map<string, string[]>();
    let inPage = 0;
    const add = (object: ObjectInfo) => {
      const uploadId = object.key.split("/")[2] ?? "";
      page.set(uploadId, [...(page.get(uploadId) ?? []), object.key]);
      inPage += 1;
    };
    for await (const object of store.list("staging/")) {
      if (now.getTime() - object.lastModified.getTime() < deps.stagingGraceMs) continue;
      add(object);
      if (inPage < BATCH) continue;
      count += await deleteOrphans(page);
      [page, inPage] = [new Map(), 0];
      if (!budget.left()) return { count, drained: false };
    }
    count += await deleteOrphans(page);
    return { count, drained: true };
  }

  /** Aborts `started` objects unless an upload in progress recorded them as its own (by key and handle). */
  async function abortUnowned(started: readonly StartedObject[]): Promise<number> {
    const ids = [...new Set(started.map((o) => uploadIdOfObject(o.key) ?? ""))];
    const owned = new Set<string>();
    for (let i = 0; i < ids.length; i += BATCH) {
      const rows = await db
        .selectFrom("uploads")
        .select(["objectKey", "partsHandle"])
        .where("id", "in", ids.slice(i, i + BATCH))
        .where("state", "=", "in_progress")
        .execute();
      for (const row of rows) owned.add(`${row.objectKey} ${row.partsHandle}`);
    }
    const unowned = started.filter((o) => !owned.has(`${o.key} ${o.handle}`));
    await mapConcurrent(unowned, 8, (o) => store.abortParts(o));
    return unowned.length;
  }

  /**
   * Objects started in parts and left unfinished by no upload in progress (a
   * crash before the handle was recorded, a stream that lost the race to
   * record it): aborted once older than the grace period, a page at a time.
   */
  async function abortOrphanParts(now: Date, budget: Budget): Promise<SweepResult> {
    let count = 0;
    let page: StartedObject[] = [];
    for await (const started of store.listStarted(UPLOAD_OBJECTS)) {
      if (now.getTime() - started.startedAt.getTime() < deps.stagingGraceMs) continue;
      page.push(started);
      if (page.length < BATCH) continue;
      count += await abortUnowned(page);
      page = [];
      if (!budget.left()) return { count, drained: false };
    }
    count += await abortUnowned(page);
    return { count, drained: true };
  }

  return { expireUploads, purgeFinished, sweepOrphanStaging, abortOrphanParts };
}
