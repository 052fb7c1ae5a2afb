import { describe, expect, it } from "vitest";
import { bucketCount, extremesToPoints } from "../../src/services/downsample.js";

describe("min/max downsampling", () => {
  it("uses half the point budget as buckets, at least one", () => {
    expect(bucketCount(1000)).toBe(500);
    expect(bucketCount(1001)).toBe(500);
    expect(bucketCount(2)).toBe(1);
    expect(bucketCount(1)).toBe(1);
  });

  it("keeps each bucket's minimum and maximum in step order, a lone extreme once", () => {
    const points = extremesToPoints([
      { min: [-1, 30, 3], max: [5, 20, 2] },
      { min: [0, 1, 1], max: [0, 1, 1] },
    ]);
    expect(points).toEqual([
      { value: 0, step: 1, tsMs: 1 },
      { value: 5, step: 20, tsMs: 2 },
      { value: -1, step: 30, tsMs: 3 },
    ]);
  });

  it("keeps NaN and infinite extremes, and one NaN when a bucket holds only NaN", () => {
    const points = extremesToPoints([
      { min: [Number.NEGATIVE_INFINITY, 1, 0], max: [Number.NaN, 2, 0] },
      { min: [Number.NaN, 3, 0], max: [Number.NaN, 3, 0] },
    ]);
    expect(points.map((p) => p.value)).toEqual([Number.NEGATIVE_INFINITY, Number.NaN, Number.NaN]);
  });

  it("orders points of one step by timestamp", () => {
    expect(extremesToPoints([{ min: [1, 5, 9], max: [2, 5, 4] }]).map((p) => p.tsMs)).toEqual([4, 9]);
  });
});
