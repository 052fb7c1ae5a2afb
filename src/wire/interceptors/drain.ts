import type { Interceptor } from "@connectrpc/connect";

/**
 * Ends open streams when `signal` aborts (shutdown after its grace period):
 * the next message either way, or the wait for it, throws `signal.reason`
 * (an UnavailableError, so that clients resume elsewhere). Unary calls are
 * left alone: they are short, and cutting one off would only turn a result
 * into an error.
 */
export function drainInterceptor(signal: AbortSignal): Interceptor {
  return (next) => async (req) => {
    const res = await next(req.stream ? { ...req, message: untilAborted(req.message, signal) } : req);
    return res.stream ? { ...res, message: untilAborted(res.message, signal) } : res;
  };
}

/** `messages`, ending with `signal.reason` as soon as the signal aborts, even while waiting for the next one. */
export async function* untilAborted<T>(messages: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  const it = messages[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await nextOrAbort(it, signal);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Not awaited: a source still waiting for a stalled client would hold shutdown up.
    // Returning lets it release what it holds; its own failure is not ours to report.
    Promise.resolve(it.return?.()).catch(() => undefined);
  }
}

/** The iterator's next result, or a rejection with the signal's reason when it aborts first. A fresh listener per call, removed after, so a long stream accumulates nothing. */
function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T>> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    it.next().then(
      (result) => {
        signal.removeEventListener("abort", onAbort);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
