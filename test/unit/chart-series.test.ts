/** What a metric chart draws from GetMetricHistory's series: alignment of runs, smoothing, zoom ranges, colours. */
import { describe, expect, it } from "vitest";
import { runColour, runColours } from "../../ui/src/charts/palette.js";
import { alignSeries, type HistorySeries, smooth, stepRangeOf } from "../../ui/src/charts/series.js";

function series(runId: string, pts: [step: number, value: number, seconds?: number][], downsampled = false): HistorySeries {
  return {
    runId,
    downsampled,
    points: pts.map(([step, value, seconds]) => ({ step: BigInt(step), value, timestamp: { seconds: BigInt(seconds ?? step), nanos: 0 } })),
  };
}

describe("alignSeries", () => {
  it("keeps one run's points as they are, NaN and infinities as gaps counted apart", () => {
    const d = alignSeries([series("a", [[0, 1], [1, Number.NaN], [2, Number.POSITIVE_INFINITY], [3, 4]], true)], ["a"], "step", false);
    expect(d.x).toEqual([0, 1, 2, 3]);
    expect(d.ys).toEqual([[1, null, null, 4]]);
    expect(d).toMatchObject({ points: 4, nonFinite: 2, yMin: 1, yMax: 4, stepMin: 0, stepMax: 3, downsampled: true });
  });

  it("puts several runs on the union of their steps, each null where it has no point, in the order asked", () => {
    const d = alignSeries([series("b", [[1, 10], [3, 30]]), series("a", [[0, 1], [1, 2]])], ["a", "b"], "step", false);
    expect(d.x).toEqual([0, 1, 3]);
    expect(d.ys).toEqual([
      [1, 2, null],
      [null, 10, 30],
    ]);
  });

  it("on a log scale drops values it cannot draw; on wall time orders by time, remembering each point's step", () => {
    expect(alignSeries([series("a", [[0, 0], [1, -1], [2, 5]])], ["a"], "step", true).ys).toEqual([[null, null, 5]]);
    const d = alignSeries([series("a", [[0, 1, 200], [1, 2, 100]])], ["a"], "time", false);
    expect(d.x).toEqual([100, 200]);
    expect(d.steps).toEqual([1, 0]);
  });
});

describe("smooth", () => {
  it("is the raw series at weight 0, debiased at the start, and keeps gaps", () => {
    const ys = [1, null, 3, 3];
    expect(smooth(ys, 0)).toBe(ys);
    const s = smooth(ys, 0.5);
    expect(s[0]).toBe(1);
    expect(s[1]).toBeNull();
    // (0.5·(0.5·0 + 0.5·1) + 0.5·3) / (1 − 0.25)
    expect(s[2]).toBeCloseTo(7 / 3, 12);
    expect(s[3]).toBeGreaterThan(s[2]!);
  });
});

describe("stepRangeOf", () => {
  it("turns a selection into whole steps, or into the steps of the points drawn in it on wall time", () => {
    const d = alignSeries([series("a", [[10, 1, 100], [20, 1, 110], [30, 1, 120]])], ["a"], "time", false);
    expect(stepRangeOf(d, "step", 10.2, 19.7)).toEqual({ min: 11, max: 19 });
    expect(stepRangeOf(d, "step", 10.2, 10.8)).toBeUndefined();
    expect(stepRangeOf(d, "time", 105, 125)).toEqual({ min: 20, max: 30 });
  });
});

it("gives a run the same colour wherever it is drawn", () => {
  expect(runColour("run_abc")).toBe(runColour("run_abc"));
  expect(runColour("run_abc")).toMatch(/^#[0-9a-f]{6}$/);
  expect(runColours(["run_abc"]).get("run_abc")).toBe(runColour("run_abc"));
});

it("gives runs compared together colours of their own, whatever their order", () => {
  const ids = Array.from({ length: 20 }, (_, i) => `run_${i.toString(36)}x${(i * 7919).toString(36)}`);
  const colours = runColours(ids);
  expect(new Set(colours.values()).size).toBe(20);
  expect(runColours([...ids].reverse())).toEqual(colours);
});
