import { describe, expect, it } from "vitest";
import { coalesce } from "../../src/util/coalesce.js";

describe("coalesce", () => {
  it("runs calls made together as one batch, and later calls in the next batches once earlier ones finish", async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const double = coalesce(
      async (items: number[]) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items.map((i) => i * 2);
      },
      { maxBatch: 3, maxInFlight: 1, isolate: () => false },
    );
    const first = [1, 2].map(double);
    await new Promise((resolve) => setImmediate(resolve));
    // Arrive while the first batch is in flight: they wait, then go in batches of at most maxBatch.
    const later = [3, 4, 5, 6].map(double);
    expect(batches).toEqual([[1, 2]]);
    release();
    expect(await Promise.all([...first, ...later])).toEqual([2, 4, 6, 8, 10, 12]);
    expect(batches).toEqual([[1, 2], [3, 4, 5], [6]]);
  });

  it("fails only the call whose item was refused, when a batch of several fails for an item's fault", async () => {
    const refused = (e: unknown) => e instanceof Error && e.message.startsWith("refused");
    const check = coalesce(
      async (items: string[]) => {
        if (items.includes("bad")) throw new Error(`refused ${items.join(",")}`);
        return items.map((i) => i.toUpperCase());
      },
      { maxBatch: 10, maxInFlight: 1, isolate: refused },
    );
    const results = await Promise.allSettled(["a", "bad", "b"].map(check));
    expect(results).toEqual([
      { status: "fulfilled", value: "A" },
      { status: "rejected", reason: new Error("refused bad") },
      { status: "fulfilled", value: "B" },
    ]);
  });

  it("fails every call of a batch at once when the failure is not an item's fault (an outage)", async () => {
    let runs = 0;
    const check = coalesce(
      async (_items: string[]): Promise<string[]> => {
        runs += 1;
        throw new Error("database unreachable");
      },
      { maxBatch: 10, maxInFlight: 1, isolate: () => false },
    );
    const results = await Promise.allSettled(["a", "b", "c"].map(check));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(runs).toBe(1);
  });
});
