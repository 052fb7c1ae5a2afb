/**
 * The janitor reclaims what uploads and commits leave behind: expired
 * uploads, staged segments of finished uploads, staged objects nothing owns,
 * and permanent blobs that no artefact (of a dataset version or a run)
 * references once their commit lease has run out.
 *
 * Every replica runs it on a timer, but one pass runs at a time per
 * database: a pass that finds another running returns at once, skipped. A
 * pass drains its backlog in batches until it is empty or the time budget is
 * spent; the next pass continues where it stopped.
 */
import type { Kysely } from "kysely";
import type { StillHeld } from "../db/advisory-lock.js";
import type { Database } from "../db/schema.js";
import type { ObjectStore } from "../storage/object-store.js";
import { newId } from "./ids.js";
import { createBlobCollector } from "./janitor/blob-collector.js";
import { budgetOf } from "./janitor/budget.js";
import { createUploadSweeps } from "./janitor/upload-sweeps.js";
import type { UploadService } from "./uploads.js";

/** Runs a pass holding a lock shared by every replica, or returns undefined when another holds it. */
export type PassLock = <T>(pass: (stillHeld: StillHeld) => Promise<T>) => Promise<T | undefined>;

export interface JanitorDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  uploads: Pick<UploadService, "purgeStaging">;
  /** Staged objects younger than this are left alone: a stream may still be writing them. */
  stagingGraceMs: number;
  /** How long one pass may work before it stops and leaves the rest to the next. */
  budgetMs: number;
  /** Ends a pass after its current batch (shutdown), leaving the rest to the next one. */
  stop?: AbortSignal;
  /** A blob claim older than this belongs to a pass that died, and is taken over. Must exceed `budgetMs`. */
  claimTakeoverMs: number;
  /** Single-flight across processes (PostgreSQL's advisory lock); without it, only within this process (PGlite). */
  crossProcessLock?: PassLock;
}

export interface JanitorReport {
  /** Another pass was running (here or on another replica); this one did nothing. */
  skipped: boolean;
  /** False when the time budget ran out with work left. */
  drained: boolean;
  durationMs: number;
  expiredUploads: number;
  purgedUploads: number;
  orphanStagedObjects: number;
  /** Objects started in parts that no upload in progress owned, aborted. */
  abortedParts: number;
  deletedBlobs: number;
}

export type Janitor = ReturnType<typeof createJanitor>;

export function createJanitor(deps: JanitorDeps) {
  const sweeps = createUploadSweeps(deps);
  const blobs = createBlobCollector(deps);
  const crossProcess: PassLock = deps.crossProcessLock ?? ((pass) => pass(async () => undefined));
  let running = false;

  async function pass(now: Date, stillHeld: StillHeld, started: number): Promise<JanitorReport> {
    const budget = budgetOf(deps.budgetMs, deps.stop);
    const expired = await sweeps.expireUploads(now, budget);
    const purged = await sweeps.purgeFinished(now, budget);
    const orphans = await sweeps.sweepOrphanStaging(now, budget);
    const parts = await sweeps.abortOrphanParts(now, budget);
    const deleted = await blobs.collectBlobs(newId("jp"), now, budget, stillHeld);
    return {
      skipped: false,
      drained: [expired, purged, orphans, parts, deleted].every((s) => s.drained),
      durationMs: performance.now() - started,
      expiredUploads: expired.count,
      purgedUploads: purged.count,
      orphanStagedObjects: orphans.count,
      abortedParts: parts.count,
      deletedBlobs: deleted.count,
    };
  }

  /**
   * One cleanup pass, or a skipped one when another pass holds the lock.
   * `now` is injectable so tests can look past leases and grace periods; the
   * time budget runs on the real clock. Throws when the database or the store
   * fails, or the lock is lost mid-pass.
   */
  async function runOnce(now: Date = new Date()): Promise<JanitorReport> {
    const started = performance.now();
    const skipped = (): JanitorReport => ({
      skipped: true,
      drained: false,
      durationMs: performance.now() - started,
      expiredUploads: 0,
      purgedUploads: 0,
      orphanStagedObjects: 0,
      abortedParts: 0,
      deletedBlobs: 0,
    });
    // One process runs one pass at a time, whatever the database; PGlite has no other process to ask.
    if (running) return skipped();
    running = true;
    try {
      return (await crossProcess((stillHeld) => pass(now, stillHeld, started))) ?? skipped();
    } finally {
      running = false;
    }
  }

  return { runOnce };
}
