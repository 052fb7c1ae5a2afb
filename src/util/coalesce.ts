/**
 * Group commit for one kind of statement: calls that arrive while earlier
 * ones are on their way to the database, or in the same turn of the event
 * loop, go together as one statement. Many small uploads in flight then cost
 * a round trip (a socket write, a wake-up of the backend, a plan, a parse of
 * the reply) per batch, not per call. A call waits at most for the batches
 * ahead of it, at most `maxInFlight` of which run at once.
 */

export interface CoalesceOptions {
  /** Most items in one batch. */
  maxBatch: number;
  /** Batches running at once; the next waits for one of them. */
  maxInFlight: number;
  /**
   * Whether a batch's failure may be the fault of one of its items (a value the
   * database refused): then each item runs again alone, so that only its own
   * call fails. Other failures (an outage) fail the whole batch at once.
   */
  isolate: (error: unknown) => boolean;
}

/**
 * Returns a function that submits one item and resolves with its result from
 * `run`, which gets a batch and returns one result per item, in order.
 */
export function coalesce<T, R>(run: (items: T[]) => Promise<R[]>, opts: CoalesceOptions): (item: T) => Promise<R> {
  interface Waiter {
    item: T;
    resolve: (result: R) => void;
    reject: (error: unknown) => void;
  }
  let queue: Waiter[] = [];
  let inFlight = 0;
  let scheduled = false;

  async function runAlone(w: Waiter): Promise<void> {
    try {
      const [result] = await run([w.item]);
      w.resolve(result as R);
    } catch (error) {
      w.reject(error);
    }
  }

  async function runBatch(batch: Waiter[]): Promise<void> {
    try {
      const results = await run(batch.map((w) => w.item));
      if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} returned ${results.length} results`);
      batch.forEach((w, i) => w.resolve(results[i] as R));
    } catch (error) {
      if (batch.length > 1 && opts.isolate(error)) await Promise.all(batch.map(runAlone));
      else for (const w of batch) w.reject(error);
    }
  }

  function flush(): void {
    scheduled = false;
    while (queue.length > 0 && inFlight < opts.maxInFlight) {
      const batch = queue.slice(0, opts.maxBatch);
      queue = queue.slice(batch.length);
      inFlight += 1;
      void runBatch(batch).finally(() => {
        inFlight -= 1;
        flush();
      });
    }
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (scheduled || inFlight >= opts.maxInFlight) return;
      // Let the other streams whose messages arrived in this turn of the event loop join.
      scheduled = true;
      setImmediate(flush);
    });
}
