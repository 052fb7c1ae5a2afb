import { describe, expect, it } from "vitest";
import { bucketCount, extremesToPoints, planBucketOf, planRollupRead } from "../../src/services/downsample.js";

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

  it("reads the finest rollup level within 8 rows a bucket, grouped into at most the bucket budget", () => {
    const shifts = [4, 7, 10, 13, 16, 19, 22];
    // 1,000,000 steps into 500 buckets: 16-step (62,500) and 128-step (7,813) buckets are too many; 1,024-step ones (977) are not.
    const plan = planRollupRead(shifts, { minStep: 0, maxStep: 999_999, buckets: 500 });
    expect(plan).toEqual({ level: 2, firstBucket: 0, buckets: 977, groups: 500 });
    expect(planBucketOf(shifts, plan!, 0)).toBe(0);
    expect(planBucketOf(shifts, plan!, 999_999)).toBe(499);
    // A span under 16 steps a bucket: read the points.
    expect(planRollupRead(shifts, { minStep: 0, maxStep: 7_983, buckets: 500 })).toBeUndefined();
    // Negative steps floor like step >> shift.
    expect(planRollupRead(shifts, { minStep: -17, maxStep: 15, buckets: 1 })).toEqual({ level: 0, firstBucket: -2, buckets: 3, groups: 1 });
    // Beyond every level's budget, the coarsest level.
    expect(planRollupRead(shifts, { minStep: -(2 ** 53 - 1), maxStep: 2 ** 53 - 1, buckets: 2 })?.level).toBe(6);
  });
});
