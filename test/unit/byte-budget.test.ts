import { describe, expect, it } from "vitest";
import { ByteBudget } from "../../src/services/byte-budget.js";

/** Settles pending grants (they resolve in microtasks). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("byte budget", () => {
  it("grants up to its capacity, then makes callers wait in arrival order until bytes are released", async () => {
    const budget = new ByteBudget(10);
    const first = budget.account("org-a");
    await first.take(6);
    const granted: string[] = [];
    const big = budget.account("org-a").take(8).then(() => granted.push("big"));
    const small = budget.account("org-a").take(1).then(() => granted.push("small"));
    await settle();
    // 4 bytes are free, but the small request waits behind the big one: no starvation.
    expect(granted).toEqual([]);
    expect(budget.stats()).toEqual({ capacity: 10, inUse: 6, waiters: 2 });
    first.release(6);
    await Promise.all([big, small]);
    expect(granted).toEqual(["big", "small"]);
  });

  it("never asks for more than its capacity, so an oversized request cannot wait forever", async () => {
    const budget = new ByteBudget(4);
    const a = budget.account("org");
    await a.take(100);
    const next = budget.account("org").take(1);
    a.release(100);
    await expect(next).resolves.toBeUndefined();
  });

  it("lets another organisation's waiter go first while one organisation holds its fair share", async () => {
    const budget = new ByteBudget(10);
    const greedy = budget.account("greedy");
    await greedy.take(8); // more than 10 / 2 once "other" waits
    const granted: string[] = [];
    const more = budget.account("greedy").take(4).then(() => granted.push("greedy"));
    const other = budget.account("other").take(4).then(() => granted.push("other"));
    await settle();
    expect(granted).toEqual([]);
    greedy.release(2); // 4 free: the greedy organisation asked first, but the other one is under its share
    await other;
    await settle();
    expect(granted).toEqual(["other"]);
    greedy.release(6);
    await more;
    expect(granted).toEqual(["other", "greedy"]);
  });

  it("an organisation alone may use the whole budget", async () => {
    const budget = new ByteBudget(10);
    await budget.account("solo").take(9);
    await budget.account("solo").take(1);
    expect(budget.stats().inUse).toBe(10);
  });

  it("a wait ends with the signal's reason when it aborts, and the place in line is given up", async () => {
    const budget = new ByteBudget(10);
    const holder = budget.account("org");
    await holder.take(10);
    const controller = new AbortController();
    const waiting = budget.account("org").take(5, controller.signal);
    const behind = budget.account("org").take(5);
    await settle();
    expect(budget.stats().waiters).toBe(2);
    const reason = new Error("client went away");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(budget.stats().waiters).toBe(1);
    holder.release(5);
    await expect(behind).resolves.toBeUndefined();
    expect(budget.stats()).toEqual({ capacity: 10, inUse: 10, waiters: 0 });
  });

  it("when every holder waits and nothing is on its way out, the first holder may overdraw until it seals", async () => {
    // Two streams each hold half a segment and want more: neither could ever finish its segment.
    const budget = new ByteBudget(10);
    const a = budget.account("org");
    const b = budget.account("org");
    await a.take(5);
    await b.take(5);
    const granted: string[] = [];
    const aMore = a.take(3).then(() => granted.push("a"));
    const bMore = b.take(3).then(() => granted.push("b"));
    await aMore;
    expect(granted).toEqual(["a"]);
    // a's segment is complete and on its way to storage: no more overdraft, b waits for the release.
    a.seal(8);
    await settle();
    expect(granted).toEqual(["a"]);
    a.release(8);
    await bMore;
    expect(granted).toEqual(["a", "b"]);
  });

  it("does not overdraw while sealed bytes will come back", async () => {
    const budget = new ByteBudget(10);
    const a = budget.account("org");
    await a.take(10);
    a.seal(6);
    let granted = false;
    const more = a.take(2).then(() => (granted = true));
    await settle();
    expect(granted).toBe(false);
    a.release(6);
    await more;
    expect(budget.stats().inUse).toBe(6);
  });

  it("close returns whatever an account still holds", async () => {
    const budget = new ByteBudget(10);
    const a = budget.account("org");
    await a.take(3);
    await a.take(4);
    a.close();
    a.close();
    expect(budget.stats().inUse).toBe(0);
  });
});
