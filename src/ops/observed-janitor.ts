/**
 * Janitor passes as an operator sees them: each one counted by outcome in the
 * metrics with what it reclaimed and how long it took, and logged (at info
 * when it reclaimed something or ran out of time, else at debug).
 */
import type { Janitor, JanitorReport } from "../services/janitor.js";
import { errorField, type Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

export function observeJanitor(janitor: Pick<Janitor, "runOnce">, deps: { metrics: Metrics; logger: Logger }): Pick<Janitor, "runOnce"> {
  const { metrics, logger } = deps;
  return {
    /** A pass, as Janitor.runOnce; rethrows its failure after counting and logging it. */
    async runOnce(now?: Date): Promise<JanitorReport> {
      try {
        const report = await janitor.runOnce(now);
        const { skipped, drained, durationMs, ...reclaimed } = report;
        metrics.janitorPasses.inc({ outcome: skipped ? "skipped" : "completed" });
        if (skipped) return report;
        metrics.janitorDuration.observe(durationMs / 1000);
        for (const [kind, count] of Object.entries(reclaimed)) metrics.janitorReclaimed.inc({ kind }, count);
        const worthSaying = !drained || Object.values(reclaimed).some((n) => n > 0);
        logger[worthSaying ? "info" : "debug"]({ janitor: report }, drained ? "janitor pass" : "janitor pass ran out of time; the next pass goes on");
        return report;
      } catch (error) {
        metrics.janitorPasses.inc({ outcome: "failed" });
        logger.warn({ err: errorField(error, false) }, "janitor pass failed; the next pass retries");
        throw error;
      }
    },
  };
}
