/**
 * Min/max downsampling of a metric series, the pure half: the database finds
 * each step bucket's extreme points (metrics-repo.ts bucketExtremes), and
 * this turns them into at most two points per bucket, in step order.
 */

/** A downsampled point: [value, step, tsMs], the shape bucketExtremes returns. */
export type Extreme = readonly number[];

export interface SampledPoint {
  value: number;
  step: number;
  tsMs: number;
}

/** Buckets for at most `maxPoints` points: each bucket keeps up to two (its minimum and maximum). */
export function bucketCount(maxPoints: number): number {
  return Math.max(1, Math.floor(maxPoints / 2));
}

/**
 * The points of every bucket's minimum and maximum, the same point once when
 * a bucket's minimum is its maximum, ordered by step then timestamp. Since
 * every point falls in one bucket, the series' global minimum and maximum
 * are among them.
 */
export function extremesToPoints(buckets: readonly { min: Extreme; max: Extreme }[]): SampledPoint[] {
  const points: SampledPoint[] = [];
  for (const { min, max } of buckets) {
    points.push(toPoint(min));
    if (!samePoint(min, max)) points.push(toPoint(max));
  }
  return points.sort((a, b) => a.step - b.step || a.tsMs - b.tsMs);
}

function toPoint(extreme: Extreme): SampledPoint {
  return { value: extreme[0] ?? Number.NaN, step: extreme[1] ?? 0, tsMs: extreme[2] ?? 0 };
}

// Object.is: NaN is the same as NaN here (two NaN extremes of one bucket are one point).
function samePoint(a: Extreme, b: Extreme): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}
