/**
 * From GetMetricHistory's series to what uPlot draws: one x array shared by
 * every run (steps, or wall time in seconds), one y array per run with gaps
 * (null) where a run has no point, and an exponential moving average of
 * each. Pure functions: tested without a browser, cheap at the few thousand
 * points a chart holds (the server downsamples to its pixel width).
 */

/**
 * The part of GetMetricHistory's MetricSeries used here (structural, so that
 * this file has no import and unit tests run it under Node).
 */
export interface HistorySeries {
  runId: string;
  downsampled: boolean;
  points: { step: bigint; value: number; timestamp?: { seconds: bigint; nanos: number } }[];
}

export type XMode = "step" | "time";

export interface ChartData {
  /** x values, ascending. */
  x: number[];
  /** One array per run (in `runIds` order), null where that run has no point at x. */
  ys: (number | null)[][];
  /** Per x index: the step of the point drawn there (for zooming in wall-time mode). */
  steps: number[];
  points: number;
  stepMin: number;
  stepMax: number;
  yMin: number;
  yMax: number;
  /** Points whose value is NaN or ±Infinity (not drawable, but worth saying). */
  nonFinite: number;
  downsampled: boolean;
}

interface Pt {
  x: number;
  step: number;
  y: number;
}

function pointsOf(s: HistorySeries, xMode: XMode): Pt[] {
  const out: Pt[] = new Array(s.points.length);
  for (let i = 0; i < s.points.length; i++) {
    const p = s.points[i]!;
    const step = Number(p.step);
    const x = xMode === "step" ? step : p.timestamp ? Number(p.timestamp.seconds) + p.timestamp.nanos / 1e9 : Number.NaN;
    out[i] = { x, step, y: p.value };
  }
  // Points come ordered by step; wall time need not follow it.
  if (xMode === "time") out.sort((a, b) => a.x - b.x);
  return out;
}

/** Aligns the series of `runIds` on one x axis. `log` drops values a log scale cannot draw (≤ 0). */
export function alignSeries(series: HistorySeries[], runIds: string[], xMode: XMode, log: boolean): ChartData {
  const byRun = new Map<string, Pt[]>();
  let downsampled = false;
  for (const s of series) {
    const pts = pointsOf(s, xMode);
    byRun.set(s.runId, [...(byRun.get(s.runId) ?? []), ...pts]);
    downsampled ||= s.downsampled;
  }
  const stats = { points: 0, stepMin: Infinity, stepMax: -Infinity, yMin: Infinity, yMax: -Infinity, nonFinite: 0 };
  const drawable = (v: number) => Number.isFinite(v) && (!log || v > 0);
  for (const pts of byRun.values()) {
    stats.points += pts.length;
    for (const p of pts) {
      if (p.step < stats.stepMin) stats.stepMin = p.step;
      if (p.step > stats.stepMax) stats.stepMax = p.step;
      if (!Number.isFinite(p.y)) stats.nonFinite++;
      else {
        if (p.y < stats.yMin) stats.yMin = p.y;
        if (p.y > stats.yMax) stats.yMax = p.y;
      }
    }
  }

  // One run (the run page): its points as they are, repeated steps included.
  if (runIds.length === 1) {
    const pts = byRun.get(runIds[0]!) ?? [];
    return {
      x: pts.map((p) => p.x),
      ys: [pts.map((p) => (drawable(p.y) ? p.y : null))],
      steps: pts.map((p) => p.step),
      downsampled,
      ...stats,
    };
  }

  // Several runs: the union of their x values, each run null where it has none.
  const xs = new Map<number, number>();
  for (const pts of byRun.values()) for (const p of pts) if (!xs.has(p.x)) xs.set(p.x, p.step);
  const x = [...xs.keys()].sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((v, i) => index.set(v, i));
  const ys = runIds.map((id) => {
    const col: (number | null)[] = new Array(x.length).fill(null);
    for (const p of byRun.get(id) ?? []) col[index.get(p.x)!] = drawable(p.y) ? p.y : null;
    return col;
  });
  return { x, ys, steps: x.map((v) => xs.get(v)!), downsampled, ...stats };
}

/**
 * Exponential moving average with TensorBoard's debiasing (so the first
 * points are not pulled towards 0); `weight` 0 is the raw series, 0.99 is
 * very smooth. Gaps stay gaps and do not reset the average.
 */
export function smooth(ys: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return ys;
  const out: (number | null)[] = new Array(ys.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < ys.length; i++) {
    const v = ys[i];
    if (v === null || v === undefined) {
      out[i] = null;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = last / (1 - weight ** n);
  }
  return out;
}

/** The step range a selection of x values covers: directly in step mode, through the points drawn in time mode. */
export function stepRangeOf(data: ChartData, xMode: XMode, x0: number, x1: number): { min: number; max: number } | undefined {
  if (xMode === "step") {
    const min = Math.ceil(x0);
    const max = Math.floor(x1);
    return max > min ? { min, max } : undefined;
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.x.length; i++) {
    const x = data.x[i]!;
    if (x < x0 || x > x1) continue;
    const s = data.steps[i]!;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  return max > min ? { min, max } : undefined;
}
