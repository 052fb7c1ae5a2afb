/**
 * The options every chart of a page shares, kept in the URL so a view can be
 * shared: x axis (?x=time), log scale (?log=1), smoothing (?smooth=0.6).
 */
import { setQuery, useLocation } from "../router.js";
import type { XMode } from "./series.js";

export interface ChartOptions {
  xMode: XMode;
  log: boolean;
  smoothing: number;
}

export function useChartOptions(): ChartOptions {
  const q = useLocation().query;
  const smoothing = Number(q.get("smooth") ?? "0");
  return {
    xMode: q.get("x") === "time" ? "time" : "step",
    log: q.get("log") === "1",
    smoothing: Number.isFinite(smoothing) ? Math.min(0.99, Math.max(0, smoothing)) : 0,
  };
}

export function ChartControls() {
  const o = useChartOptions();
  return (
    <div className="chart-controls">
      <label>
        x axis{" "}
        <select value={o.xMode} onChange={(e) => setQuery({ x: e.target.value === "time" ? "time" : undefined })}>
          <option value="step">step</option>
          <option value="time">wall time</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={o.log} onChange={(e) => setQuery({ log: e.target.checked ? "1" : undefined })} /> log scale
      </label>
      <label>
        smoothing{" "}
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={o.smoothing}
          aria-label="smoothing"
          onChange={(e) => setQuery({ smooth: Number(e.target.value) > 0 ? e.target.value : undefined })}
        />{" "}
        <span className="num">{o.smoothing.toFixed(2)}</span>
      </label>
      <span className="muted">Drag across a chart to zoom into its steps; double-click to reset.</span>
    </div>
  );
}
