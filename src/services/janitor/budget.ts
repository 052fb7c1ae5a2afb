/** The time a janitor pass may spend, and what each of its sweeps reports. */

export interface Budget {
  /** Whether there is time left for another batch. */
  left(): boolean;
}

/**
 * A budget of `ms` from now, on a monotonic clock (wall-clock jumps neither end
 * nor extend it), that also ends when `stop` aborts (the server shutting down:
 * the pass ends after its current batch).
 */
export function budgetOf(ms: number, stop?: AbortSignal, clock: () => number = () => performance.now()): Budget {
  const end = clock() + ms;
  return { left: () => !stop?.aborted && clock() < end };
}

export interface SweepResult {
  /** What the sweep reclaimed. */
  count: number;
  /** False when the budget ran out with work left: the next pass continues. */
  drained: boolean;
}

/** Rows (or objects) a sweep handles per batch: statements and IN lists stay bounded. */
export const BATCH = 500;
