/** Deterministic interleaving for tests: a store whose calls can be held at a gate until the test releases them. */
import type { ObjectStore } from "../../src/storage/object-store.js";

export function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

interface Gate {
  match: (keys: readonly string[]) => boolean;
  reached: ReturnType<typeof deferred>;
  release: ReturnType<typeof deferred>;
}

/**
 * The real store, with `delete` held at a gate: the first delete whose keys
 * `match` signals `reached` and waits for `release()` before it runs. Every
 * other call goes straight to the real store.
 */
export function gatedStore(real: ObjectStore) {
  let gate: Gate | undefined;
  const made: Gate[] = [];
  const store: ObjectStore = {
    ...real,
    async delete(keys) {
      const held = gate;
      if (held?.match(keys)) {
        gate = undefined;
        held.reached.resolve();
        await held.release.promise;
      }
      return real.delete(keys);
    },
  };
  return {
    store,
    /** Holds the next delete of any of `keys`; await `reached`, then call `release`. */
    holdDelete(keys: readonly string[]) {
      const next: Gate = { match: (ks) => ks.some((k) => keys.includes(k)), reached: deferred(), release: deferred() };
      gate = next;
      made.push(next);
      return { reached: next.reached.promise, release: () => next.release.resolve() };
    },
    /** Lets any held delete through (for cleanup after a failed test). */
    releaseAll() {
      for (const g of made) g.release.resolve();
      gate = undefined;
    },
  };
}
