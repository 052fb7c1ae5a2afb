/**
 * What can end an Upload stream early, in one AbortSignal: the caller's
 * signal (client gone, server shutting down), the idle timeout (no message
 * for too long), and the loss of the writer lease (another stream took the
 * upload over). Every wait of the stream (the next chunk, budget) ends with it.
 */

/** Reason of an abort by the idle timeout. */
export class IdleTimeout extends Error {
  constructor(readonly idleMs: number) {
    super(`no message for ${idleMs / 1000} s`);
  }
}

/** Reason of an abort because the lease renewal found the upload held by another stream. */
export class LeaseLost extends Error {}

export interface StreamGuardOptions {
  signal: AbortSignal | undefined;
  idleMs: number;
  renewEveryMs: number;
  /** Extends the writer lease; false when the stream no longer holds the upload. */
  renew: () => Promise<boolean>;
}

const ignore = () => undefined;

/**
 * `pending`, unless `signal` aborts first (rejects with its reason) or
 * nothing arrives for `idleMs` (rejects with IdleTimeout). For a wait before
 * a stream's guard exists, e.g. for its header.
 */
export function within<T>(pending: Promise<T>, idleMs: number, signal: AbortSignal | undefined): Promise<T> {
  pending.catch(ignore); // abandoned when the signal or the timer wins
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(idle);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => (done(), reject(signal?.reason));
    const idle = setTimeout(() => (done(), reject(new IdleTimeout(idleMs))), idleMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    pending.then(
      (value) => (done(), resolve(value)),
      (error: unknown) => (done(), reject(error)),
    );
  });
}

export class StreamGuard {
  readonly #controller = new AbortController();
  readonly #opts: StreamGuardOptions;
  readonly #renewal: NodeJS.Timeout;
  readonly #onCallerAbort: () => void;

  constructor(opts: StreamGuardOptions) {
    this.#opts = opts;
    const caller = opts.signal;
    this.#onCallerAbort = () => this.#controller.abort(caller?.reason);
    if (caller?.aborted) this.#onCallerAbort();
    caller?.addEventListener("abort", this.#onCallerAbort, { once: true });
    // A slow but live stream keeps its claim; a lapsed one is told at once rather than at its next record.
    this.#renewal = setInterval(() => {
      opts.renew().then(
        (held) => held || this.#controller.abort(new LeaseLost()),
        ignore, // the database is unreachable: the next segment record will say so
      );
    }, opts.renewEveryMs);
    this.#renewal.unref();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * `source`, with each wait for its next item ended by the guard's signal
   * and by the idle timeout. On an early end the source is returned (closed)
   * without waiting for its pending read.
   */
  async *guard<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    const items = source[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const next = await this.#next(items);
        if (next.done) {
          finished = true;
          return;
        }
        yield next.value;
      }
    } finally {
      if (!finished) items.return?.().catch(ignore);
    }
  }

  #next<T>(items: AsyncIterator<T>): Promise<IteratorResult<T>> {
    const signal = this.#controller.signal;
    signal.throwIfAborted();
    const pending = items.next();
    pending.catch(ignore); // a read abandoned by an abort settles unobserved
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      const done = () => {
        clearTimeout(idle);
        signal.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const idle = setTimeout(() => this.#controller.abort(new IdleTimeout(this.#opts.idleMs)), this.#opts.idleMs);
      signal.addEventListener("abort", onAbort, { once: true });
      pending.then(
        (next) => (done(), resolve(next)),
        (error: unknown) => (done(), reject(error)),
      );
    });
  }

  /** Stops the timers and lets go of the caller's signal. Idempotent. */
  close(): void {
    clearInterval(this.#renewal);
    this.#opts.signal?.removeEventListener("abort", this.#onCallerAbort);
  }
}
