/**
 * Deletes permanent blobs that nothing references and no commit holds a
 * lease on, as claims owned by one pass:
 *   1. claim    — rows are marked "deleting" with the pass's id and time
 *                 (skipping rows a commit has locked), so no commit can adopt
 *                 or re-lease them from then on;
 *   2. re-check — in a fresh statement, claims that became referenced or
 *                 re-leased meanwhile go back to "live";
 *   3. delete   — only the claimant deletes the objects, then the rows
 *                 `where claimed_by = me`.
 * Until its row is gone nobody can write those bytes again (a lease on a
 * "deleting" row is refused), so a claimant's delete never removes an object
 * a later upload or commit wrote. A pass that died leaves its claims; a later
 * pass takes them over only once they are older than `claimTakeoverMs`, far
 * longer than any live pass runs (its time budget), and every pass checks it
 * still holds the pass lock right before deleting objects.
 */
import type { Kysely } from "kysely";
import { claimExpired, deleteClaimed, recheckClaims, takeOverStale } from "../../db/blobs-repo.js";
import type { Database } from "../../db/schema.js";
import type { StillHeld } from "../../db/advisory-lock.js";
import type { ObjectStore } from "../../storage/object-store.js";
import { BATCH, type Budget, type SweepResult } from "./budget.js";

export interface BlobCollectorDeps {
  db: Kysely<Database>;
  store: ObjectStore;
  /** A claim older than this belongs to a pass that died; a later pass finishes its work. */
  claimTakeoverMs: number;
}

export function createBlobCollector(deps: BlobCollectorDeps) {
  const { db, store } = deps;

  /** Claims, re-checks and deletes a batch at a time, as pass `pass`, until none are left or the budget runs out. */
  async function collectBlobs(pass: string, now: Date, budget: Budget, stillHeld: StillHeld): Promise<SweepResult> {
    let count = 0;
    while (budget.left()) {
      const takenOver = await takeOverStale(db, pass, now, new Date(now.getTime() - deps.claimTakeoverMs), BATCH);
      const claimed = await claimExpired(db, pass, now, BATCH - takenOver);
      if (takenOver + claimed === 0) return { count, drained: true };
      const doomed = await recheckClaims(db, pass, now);
      await stillHeld();
      await store.delete(doomed.map((b) => b.physicalKey));
      count += await deleteClaimed(db, pass);
    }
    return { count, drained: false };
  }

  return { collectBlobs };
}
