/**
 * One param against one metric's latest value, a dot per run in its colour:
 * which learning rate gave the lowest loss. Numeric params get a numeric
 * axis; others are spread as categories. Chosen in the URL (?px=…&my=…).
 */
import type { Run } from "@gen/traintrack/v1/experiment_pb.js";
import { runColours } from "../../charts/palette.js";
import { formatNumber } from "../../components/format.js";
import { setQuery, useLocation } from "../../router.js";

const W = 560;
const H = 300;
const PAD = { left: 64, right: 16, top: 12, bottom: 40 };

export interface Dot {
  runId: string;
  label: string;
  x: number;
  y: number;
  xText: string;
}

/** The dots of runs having both the param and a finite latest value of the metric; categories when a value is not a number. */
export function dotsOf(runs: Run[], param: string, metric: string): { dots: Dot[]; categories: string[] | undefined } {
  const having = runs.flatMap((r) => {
    const p = r.params[param];
    const m = r.latestMetrics.find((x) => x.key === metric);
    return p !== undefined && m && Number.isFinite(m.value) ? [{ r, p, y: m.value }] : [];
  });
  const numeric = having.every(({ p }) => p.trim() !== "" && Number.isFinite(Number(p)));
  const categories = numeric ? undefined : [...new Set(having.map((h) => h.p))].sort();
  const dots = having.map(({ r, p, y }) => ({
    runId: r.runId,
    label: r.name || r.runId,
    x: categories ? categories.indexOf(p) : Number(p),
    y,
    xText: p,
  }));
  return { dots, categories };
}

function extent(vs: number[]): [number, number] {
  let lo = Math.min(...vs);
  let hi = Math.max(...vs);
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.1 || 1;
    hi += Math.abs(hi) * 0.1 || 1;
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

export function ParamScatter({ runs }: { runs: Run[] }) {
  const q = useLocation().query;
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const metrics = [...new Set(runs.flatMap((r) => r.latestMetrics.map((m) => m.key)))].sort();
  const param = q.get("px") && params.includes(q.get("px")!) ? q.get("px")! : params[0];
  const metric = q.get("my") && metrics.includes(q.get("my")!) ? q.get("my")! : metrics[0];
  if (!param || !metric) return <p className="muted">A scatter of a param against a metric needs runs with params and metrics.</p>;
  const { dots, categories } = dotsOf(runs, param, metric);
  const colours = runColours(runs.map((r) => r.runId));
  const [x0, x1] = categories ? [-0.5, categories.length - 0.5] : extent(dots.map((d) => d.x));
  const [y0, y1] = extent(dots.map((d) => d.y));
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const xTicks = categories ? categories.map((c, i) => ({ v: i, t: c })) : ticks(x0, x1).map((v) => ({ v, t: formatNumber(v) }));
  return (
    <div className="scatter">
      <div className="chart-controls">
        <label>
          param{" "}
          <select value={param} onChange={(e) => setQuery({ px: e.target.value })}>
            {params.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          metric{" "}
          <select value={metric} onChange={(e) => setQuery({ my: e.target.value })}>
            {metrics.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <span className="muted">{dots.length} of {runs.length} runs have both</span>
      </div>
      <svg width={W} height={H} role="img" aria-label={`${metric} against ${param}`} data-dots={dots.length}>
        <line x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} className="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} className="axis" />
        {xTicks.map(({ v, t }) => (
          <text key={`x${v}`} x={sx(v)} y={H - PAD.bottom + 16} textAnchor="middle">
            {t}
          </text>
        ))}
        {ticks(y0, y1).map((v) => (
          <text key={`y${v}`} x={PAD.left - 6} y={sy(v) + 4} textAnchor="end">
            {formatNumber(v)}
          </text>
        ))}
        <text x={(W + PAD.left) / 2} y={H - 6} textAnchor="middle" className="axis-label">
          {param}
        </text>
        {dots.map((d) => (
          <circle key={d.runId} cx={sx(d.x)} cy={sy(d.y)} r={5} fill={colours.get(d.runId)} data-run={d.runId}>
            <title>{`${d.label}: ${param} = ${d.xText}, ${metric} = ${formatNumber(d.y)}`}</title>
          </circle>
        ))}
      </svg>
    </div>
  );
}

/** About five round ticks between lo and hi. */
function ticks(lo: number, hi: number): number[] {
  const step0 = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}
