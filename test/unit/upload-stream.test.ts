import { describe, expect, it } from "vitest";
import { IdleTimeout, LeaseLost, StreamGuard } from "../../src/services/upload-stream.js";

/** A source whose next item arrives only when the test pushes it; records whether it was closed. */
function manualSource() {
  const waiting: ((r: IteratorResult<number>) => void)[] = [];
  const state = { returned: false };
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () => new Promise<IteratorResult<number>>((resolve) => waiting.push(resolve)),
      return: async () => {
        state.returned = true;
        return { done: true, value: undefined };
      },
    }),
  };
  return { source, state, push: (value: number) => waiting.shift()?.({ done: false, value }) };
}

const guardWith = (opts: Partial<ConstructorParameters<typeof StreamGuard>[0]> = {}) =>
  new StreamGuard({ signal: undefined, idleMs: 60_000, renewEveryMs: 60_000, renew: async () => true, ...opts });

describe("upload stream guard", () => {
  it("passes items through while they keep coming", async () => {
    const { source, push } = manualSource();
    const guard = guardWith();
    const items = guard.guard(source);
    const first = items.next();
    push(1);
    expect(await first).toEqual({ done: false, value: 1 });
    guard.close();
  });

  it("ends a wait for the next item when the caller's signal aborts, with its reason, and closes the source", async () => {
    const { source, state } = manualSource();
    const caller = new AbortController();
    const guard = guardWith({ signal: caller.signal });
    const pending = guard.guard(source).next();
    const reason = new Error("server shutting down");
    caller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(guard.signal.reason).toBe(reason);
    expect(state.returned).toBe(true);
    guard.close();
  });

  it("ends a stream that delivers nothing for the idle timeout", async () => {
    const { source } = manualSource();
    const guard = guardWith({ idleMs: 5 });
    await expect(guard.guard(source).next()).rejects.toBeInstanceOf(IdleTimeout);
    guard.close();
  });

  it("ends the stream when the lease renewal finds the upload taken over", async () => {
    const { source } = manualSource();
    const guard = guardWith({ renewEveryMs: 5, renew: async () => false });
    await expect(guard.guard(source).next()).rejects.toBeInstanceOf(LeaseLost);
    guard.close();
  });
});
