/** SQLSTATE checks, the same for pg and PGlite (both put the code on `.code`). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}

/**
 * A transaction PostgreSQL aborted so that another could go on: a deadlock
 * (40P01) or a serialization failure (40001). Nothing of it was written, and
 * running it again usually succeeds.
 */
export function isTransactionConflict(error: unknown): boolean {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === "40P01" || code === "40001";
}

/**
 * Runs `work` (which must be safe to run again: idempotent, its transactions
 * all or nothing) up to `attempts` times while PostgreSQL aborts it as a
 * transaction conflict; the last conflict is thrown as it came.
 */
export async function retryingConflicts<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isTransactionConflict(error)) throw error;
    }
  }
}
