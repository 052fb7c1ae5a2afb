import { describe, expect, it } from "vitest";
import { ByteBudget } from "../../src/services/byte-budget.js";

describe("byte budget", () => {
  it("grants up to its capacity, then makes callers wait in arrival order until bytes are released", async () => {
    const budget = new ByteBudget(10);
    await budget.acquire(6);
    const granted: string[] = [];
    const big = budget.acquire(8).then(() => granted.push("big"));
    const small = budget.acquire(1).then(() => granted.push("small"));
    await Promise.resolve();
    // 4 bytes are free, but the small request waits behind the big one: no starvation.
    expect(granted).toEqual([]);
    budget.release(6);
    await Promise.all([big, small]);
    expect(granted).toEqual(["big", "small"]);
  });

  it("never asks for more than its capacity, so an oversized request cannot wait forever", async () => {
    const budget = new ByteBudget(4);
    await budget.acquire(100);
    const next = budget.acquire(1);
    budget.release(100);
    await expect(next).resolves.toBeUndefined();
  });
});
