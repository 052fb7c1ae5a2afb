/**
 * One chart per metric key, for one run or several overlaid (colours stable
 * per run). The history comes downsampled by the server to the chart's
 * width; dragging across the chart re-fetches that step range at full
 * detail, double-click goes back to the whole run. Until the detail arrives
 * the chart shows what it had, narrowed to the range, so zooming feels
 * immediate.
 *
 * For tests and the benchmark, the element says what it has drawn
 * (data-points, data-step-min/max, data-y-min/max, data-zoom, data-drawn),
 * and every draw sets a performance mark "tt-chart-drawn" whose detail names
 * the key, the points and the zoom.
 */
import type { MetricSeries } from "@gen/traintrack/v1/experiment_pb.js";
import { useEffect, useMemo, useRef, useState } from "react";
import type uPlot from "uplot";
import { ErrorBox } from "../components/feedback.js";
import { formatNumber } from "../components/format.js";
import type { ChartOptions } from "./chart-options.js";
import { type StepRange, useMetricHistory } from "./history.js";
import { runColours } from "./palette.js";
import { type ChartData, alignSeries, smooth, stepRangeOf } from "./series.js";
import type { ChartHandle, ChartRun } from "./uplot-chart.js";
import { useElementWidth, useOnScreen, useUplot } from "./hooks.js";

const HEIGHT = 220;

interface Zoom {
  steps: StepRange;
  /** The selection in x units (steps, or seconds of wall time). */
  x: StepRange;
}

interface Shown {
  series: MetricSeries[];
  source: unknown;
  zoom: Zoom | undefined;
}

export interface MetricChartProps {
  metricKey: string;
  runs: { id: string; label: string }[];
  live: boolean;
  options: ChartOptions;
}

export function MetricChart({ metricKey, runs, live, options }: MetricChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<HTMLDivElement>(null);
  const width = useElementWidth(box);
  const onScreen = useOnScreen(box);
  const [zoom, setZoom] = useState<Zoom | undefined>();
  const runIds = useMemo(() => runs.map((r) => r.id), [runs]);
  const query = useMetricHistory(metricKey, runIds, width, zoom?.steps, live && onScreen);

  // Switching the x axis makes a zoom's x range meaningless: start over.
  useEffect(() => setZoom(undefined), [options.xMode]);

  // What the chart shows: the answer for the current request, or, while it is
  // on its way, the last answer (narrowed to the zoom when there is one).
  const last = useRef<Shown | undefined>(undefined);
  if (query.data && query.data !== last.current?.source) last.current = { series: query.data.series, source: query.data, zoom };
  const shown = last.current;

  const data = useMemo(() => (shown ? alignSeries(shown.series, runIds, options.xMode, options.log) : undefined), [shown, runIds, options.xMode, options.log]);
  const aligned = useMemo(() => (data ? toUplot(data, options.smoothing) : undefined), [data, options.smoothing]);

  const mod = useUplot();
  const handle = useRef<ChartHandle | undefined>(undefined);
  const drawn = useRef<{ data: ChartData; zoom: Zoom | undefined } | undefined>(undefined);
  const draws = useRef(0);

  const chartRuns: ChartRun[] = useMemo(() => {
    const colours = runColours(runs.map((r) => r.id));
    return runs.map((r) => ({ id: r.id, label: r.label, colour: colours.get(r.id) as string }));
  }, [runs]);
  const hasData = aligned !== undefined;

  // The uPlot instance: rebuilt when what it draws changes shape, not on new data.
  useEffect(() => {
    const el = plot.current;
    if (!mod || !el || width <= 0 || !hasData || !aligned) return;
    const h = mod.createChart(
      el,
      {
        runs: chartRuns,
        xMode: options.xMode,
        log: options.log,
        smoothing: options.smoothing,
        width,
        height: HEIGHT,
        onSelect: (x0, x1) => {
          const d = drawn.current?.data;
          const steps = d ? stepRangeOf(d, options.xMode, x0, x1) : undefined;
          if (!steps) return;
          performance.mark("tt-chart-zoom", { detail: { key: metricKey, ...steps } });
          setZoom({ steps, x: { min: x0, max: x1 } });
        },
        onReset: () => setZoom(undefined),
        onDraw: () => markDrawn(box.current, metricKey, drawn.current, ++draws.current),
      },
      aligned,
      zoom?.x,
    );
    handle.current = h;
    return () => {
      h.destroy();
      handle.current = undefined;
    };
    // Data and zoom go through setData below; width through setWidth.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mod, hasData, chartRuns, options.xMode, options.log, options.smoothing, metricKey]);

  useEffect(() => {
    if (data) drawn.current = { data, zoom: shown?.zoom };
    if (aligned) handle.current?.setData(aligned, zoom?.x);
  }, [aligned, data, shown, zoom]);

  useEffect(() => {
    if (width > 0) handle.current?.setWidth(width);
  }, [width]);

  return (
    <figure className="metric-chart" ref={box} data-chart-key={metricKey}>
      <figcaption>
        <strong>{metricKey}</strong>
        {data ? (
          <span className="muted">
            {" "}
            {data.points.toLocaleString()} points{data.downsampled ? " (min/max per pixel)" : ""}
            {data.nonFinite > 0 ? ` · ${data.nonFinite} NaN/∞ not drawn` : ""}
          </span>
        ) : null}
        {zoom ? (
          <span className="zoom">
            steps {zoom.steps.min.toLocaleString()}–{zoom.steps.max.toLocaleString()}{" "}
            <button type="button" className="link-button" onClick={() => setZoom(undefined)}>
              reset zoom
            </button>
          </span>
        ) : null}
        {query.isFetching && shown ? <span className="muted"> · loading…</span> : null}
      </figcaption>
      {query.error ? <ErrorBox error={query.error} what={`load the history of ${metricKey}`} /> : null}
      {data && data.points === 0 ? <div className="chart-empty muted">No points{zoom ? " in this range" : ""}.</div> : null}
      <div ref={plot} className="plot" style={{ minHeight: HEIGHT }} />
      {data && data.points > 0 ? (
        <div className="muted chart-range">
          y {formatNumber(data.yMin)} … {formatNumber(data.yMax)}
        </div>
      ) : null}
    </figure>
  );
}

/** uPlot's columns: x, then per run its raw values and, when smoothing, their moving average. */
function toUplot(data: ChartData, smoothing: number): uPlot.AlignedData {
  const cols: (number | null)[][] = [];
  for (const ys of data.ys) {
    cols.push(ys);
    if (smoothing > 0) cols.push(smooth(ys, smoothing));
  }
  return [data.x, ...cols] as uPlot.AlignedData;
}

function markDrawn(el: HTMLElement | null, key: string, drawn: { data: ChartData; zoom: Zoom | undefined } | undefined, count: number) {
  if (!el || !drawn) return;
  const { data, zoom } = drawn;
  const z = zoom ? `${zoom.steps.min}-${zoom.steps.max}` : "";
  el.dataset.points = String(data.points);
  el.dataset.runs = String(data.ys.filter((ys) => ys.some((v) => v !== null)).length);
  el.dataset.stepMin = String(data.stepMin);
  el.dataset.stepMax = String(data.stepMax);
  el.dataset.yMin = String(data.yMin);
  el.dataset.yMax = String(data.yMax);
  el.dataset.downsampled = String(data.downsampled);
  el.dataset.zoom = z;
  el.dataset.drawn = String(count);
  performance.mark("tt-chart-drawn", { detail: { key, points: data.points, zoom: z } });
}
