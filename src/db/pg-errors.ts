/** SQLSTATE checks, the same for pg and PGlite (both put the code on `.code`). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}
