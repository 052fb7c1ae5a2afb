/**
 * The uPlot side of a metric chart, loaded lazily (uPlot and its CSS stay
 * out of the first-load bundle). uPlot's own drag-to-zoom is turned off: a
 * selection is handed to the component, which re-fetches that step range
 * at full detail from the server, and double-click resets.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { withAlpha } from "./palette.js";
import type { XMode } from "./series.js";

export interface ChartRun {
  id: string;
  label: string;
  colour: string;
}

export interface ChartSpec {
  runs: ChartRun[];
  xMode: XMode;
  log: boolean;
  /** > 0: each run is drawn faint (raw) with its moving average over it. */
  smoothing: number;
  width: number;
  height: number;
  /** A selection, in x units. */
  onSelect(x0: number, x1: number): void;
  onReset(): void;
  /** After every draw: the component marks what is on screen. */
  onDraw(): void;
}

export interface ChartHandle {
  /** New data; `xRange` pins the x axis (a zoom), otherwise it spans the data. */
  setData(data: uPlot.AlignedData, xRange?: { min: number; max: number }): void;
  setWidth(width: number): void;
  destroy(): void;
}

/** The narrowest x axis: 2 steps, or 2 seconds. */
const MIN_SPAN = 2;

function seriesOf(spec: ChartSpec): uPlot.Series[] {
  const out: uPlot.Series[] = [{ label: spec.xMode === "step" ? "step" : "time" }];
  for (const r of spec.runs) {
    if (spec.smoothing > 0) {
      out.push({ label: `${r.label} (raw)`, stroke: withAlpha(r.colour, 0.25), width: 1, spanGaps: true, points: { show: false } });
      out.push({ label: r.label, stroke: r.colour, width: 1.5, spanGaps: true, points: { show: false } });
    } else {
      out.push({ label: r.label, stroke: r.colour, width: 1.25, spanGaps: true, points: { show: false } });
    }
  }
  return out;
}

/**
 * Points logged in one batch share one instant (or a run has one step):
 * uPlot would spread a single instant over years, so such data gets an
 * axis MIN_SPAN wide around it.
 */
function narrow(d: uPlot.AlignedData): { min: number; max: number } | undefined {
  const xs = d[0];
  if (xs.length === 0) return undefined;
  const lo = xs[0] as number;
  const hi = xs[xs.length - 1] as number;
  if (hi - lo >= MIN_SPAN) return undefined;
  const mid = (lo + hi) / 2;
  return { min: mid - MIN_SPAN / 2, max: mid + MIN_SPAN / 2 };
}

export function createChart(el: HTMLElement, spec: ChartSpec, data: uPlot.AlignedData, xRange?: { min: number; max: number }): ChartHandle {
  const opts: uPlot.Options = {
    width: spec.width,
    height: spec.height,
    series: seriesOf(spec),
    scales: {
      x: { time: spec.xMode === "time" },
      y: spec.log ? { distr: 3 } : {},
    },
    axes: [{}, { size: 60 }],
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    legend: { show: spec.runs.length <= 20, live: true },
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 3) return;
          const x0 = u.posToVal(u.select.left, "x");
          const x1 = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          spec.onSelect(x0, x1);
        },
      ],
      draw: [() => spec.onDraw()],
    },
  };
  const u = new uPlot(opts, data, el);
  // The raw lines under smoothed ones need no legend row of their own.
  if (spec.smoothing > 0) {
    const rows = u.root.querySelectorAll<HTMLElement>(".u-legend .u-series");
    rows.forEach((row, i) => {
      if (i > 0 && i % 2 === 1) row.style.display = "none";
    });
  }
  u.over.addEventListener("dblclick", () => spec.onReset());
  const initial = xRange ?? narrow(data);
  if (initial) u.setScale("x", initial);
  return {
    setData(d, zoom) {
      const range = zoom ?? narrow(d);
      if (!range) return u.setData(d, true);
      u.batch(() => {
        u.setData(d, false);
        u.setScale("x", range);
      });
    },
    setWidth(width) {
      u.setSize({ width, height: spec.height });
    },
    destroy() {
      u.destroy();
    },
  };
}
