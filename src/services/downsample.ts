/**
 * Min/max downsampling of a metric series, the pure half: this picks which
 * rollup level to read (planRollupRead), the database finds each bucket's
 * extreme points (metrics-repo.ts rollupExtremes, or bucketExtremes over the
 * points for a short step span), and this turns them into at most two points
 * per bucket, in step order.
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

/** Rollup rows a downsampled read may group, per bucket it returns. */
export const ROWS_PER_BUCKET = 8;

export interface RollupPlan {
  level: number;
  /** The rollup bucket of the series' first step at that level. */
  firstBucket: number;
  /** Rollup buckets from the first step's to the last step's. */
  buckets: number;
  /** Buckets returned: rollup bucket b goes to ((b - firstBucket) * groups) / buckets. */
  groups: number;
}

/**
 * The finest rollup level (levels' bucket widths are 2^shifts[i], finest
 * first) whose buckets over [minStep, maxStep] number at most
 * ROWS_PER_BUCKET x `buckets`, its buckets grouped into at most `buckets`
 * consecutive groups. Undefined when even the finest level has fewer buckets
 * than `buckets` (a short step span): read the points then, for the full
 * resolution.
 */
export function planRollupRead(shifts: readonly number[], range: { minStep: number; maxStep: number; buckets: number }): RollupPlan | undefined {
  for (let level = 0; level < shifts.length; level++) {
    const width = 2 ** (shifts[level] as number);
    const firstBucket = Math.floor(range.minStep / width);
    const buckets = Math.floor(range.maxStep / width) - firstBucket + 1;
    if (level === 0 && buckets < range.buckets) return undefined;
    if (buckets <= ROWS_PER_BUCKET * range.buckets || level === shifts.length - 1) {
      return { level, firstBucket, buckets, groups: Math.min(range.buckets, buckets) };
    }
  }
  return undefined;
}

/** Which bucket of `plan` a step falls in (what rollupExtremes groups by). */
export function planBucketOf(shifts: readonly number[], plan: RollupPlan, step: number): number {
  const bucket = Math.floor(step / 2 ** (shifts[plan.level] as number));
  return Math.floor(((bucket - plan.firstBucket) * plan.groups) / plan.buckets);
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
