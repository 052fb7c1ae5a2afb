import { describe, expect, it } from "vitest";
import { budgetOf } from "../../src/services/janitor/budget.js";

describe("a janitor pass's budget", () => {
  it("lasts its time on the given clock", () => {
    let now = 1000;
    const budget = budgetOf(500, undefined, () => now);
    expect(budget.left()).toBe(true);
    now = 1499;
    expect(budget.left()).toBe(true);
    now = 1500;
    expect(budget.left()).toBe(false);
  });

  it("ends at once when shutdown begins, so the pass stops after its current batch", () => {
    const stop = new AbortController();
    const budget = budgetOf(60_000, stop.signal, () => 0);
    expect(budget.left()).toBe(true);
    stop.abort();
    expect(budget.left()).toBe(false);
  });
});
