/**
 * Runs a background job at start and then every `intervalMs`, never two runs
 * of it at once in this process (a slow run delays the next). Across replicas
 * the job makes itself single-flight (the janitor takes a database lock).
 */
export interface Schedule {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export function schedule(intervalMs: number, run: () => Promise<void>): Schedule {
  let current: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped || current) return;
    current = run().finally(() => {
      current = undefined;
    });
  };
  tick();
  timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await current;
    },
  };
}
