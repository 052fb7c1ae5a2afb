/**
 * UI benchmark (`npm run bench:ui`): the run page of a run with 10 metrics ×
 * 1,000,000 points, in Debian's Chromium against a real server (PostgreSQL +
 * MinIO from test/scripts/with-services.sh, the built UI from dist/ui).
 *
 * Figures, read from the performance marks the chart component sets when it
 * has drawn (ui/src/charts/metric-chart.tsx: "tt-chart-drawn", and
 * "tt-chart-zoom" when a selection is made):
 *   - first chart drawn and all 10 drawn, from navigation start (median of
 *     5 loads of the page);
 *   - zoom into 1 % of the steps: from the mouse-up to the range drawn at
 *     full detail (median of 10 zooms on different charts and places).
 * The seeding time and rate are printed too (the browser test seeds the
 * same 10 × 1,000,000 points).
 *
 * Options: --points N (per metric, default 1,000,000), --metrics N (10).
 */
import { parseArgs } from "node:util";
import { ExperimentService, RunStatus } from "../../gen/traintrack/v1/experiment_pb.js";
import { launchBrowser, signIn, startUiServer } from "../../test/browser/support/browser.js";
import { chartsDrawn, dragZoom, resetZoom } from "../../test/browser/support/charts.js";
import { seedMetrics } from "../../test/browser/support/metrics.js";

const { values } = parseArgs({ options: { points: { type: "string", default: "1000000" }, metrics: { type: "string", default: "10" } } });
const POINTS = Number(values.points);
const METRICS = Number(values.metrics);
const LOADS = 5;
const ZOOMS = 10;

interface Mark {
  name: string;
  startTime: number;
  detail: { key: string; points: number; zoom: string } | null;
}

/** What the page's functions below touch in the browser (this file is typed for Node). */
type BrowserMark = { name: string; startTime: number; detail: { key: string; points: number; zoom: string; min: number; max: number } };
declare const document: { querySelectorAll(s: string): { length: number }; querySelector(s: string): { getAttribute(n: string): string | null } | null };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ms = (v: number) => `${v.toFixed(0)} ms`;

async function main() {
  const server = await startUiServer("postgres+minio");
  const browser = await launchBrowser();
  try {
    const experiments = server.client(ExperimentService);
    const { run } = await experiments.createRun({ project: "bench", experiment: "ui", name: "ten-million-points" });
    const runId = run!.runId;
    const keys = Array.from({ length: METRICS }, (_, i) => `metric_${i}`);
    const seedStart = performance.now();
    await seedMetrics(experiments, runId, keys, POINTS);
    const seedS = (performance.now() - seedStart) / 1000;
    await experiments.updateRunStatus({ runId, status: RunStatus.FINISHED });
    console.log(`seeded ${METRICS} metrics × ${POINTS.toLocaleString()} points in ${seedS.toFixed(1)} s (${Math.round((METRICS * POINTS) / seedS).toLocaleString()} points/s)`);

    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, "/");
    const marks = () => t.page.evaluate(() => performance.getEntriesByType("mark").map((m) => ({ name: m.name, startTime: m.startTime, detail: (m as unknown as BrowserMark).detail })) as Mark[]);

    const first: number[] = [];
    const all: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      await t.page.goto(`${server.baseUrl}/runs/${runId}`);
      await t.page.waitForFunction((n) => document.querySelectorAll("figure.metric-chart[data-drawn]").length === n, METRICS, { timeout: 60_000 });
      const firstDraw = new Map<string, number>();
      for (const m of await marks()) {
        if (m.name === "tt-chart-drawn" && m.detail && m.detail.points > 0 && !firstDraw.has(m.detail.key)) firstDraw.set(m.detail.key, m.startTime);
      }
      const times = [...firstDraw.values()];
      first.push(Math.min(...times));
      all.push(Math.max(...times));
    }

    const zooms: number[] = [];
    for (let i = 0; i < ZOOMS; i++) {
      const key = keys[i % keys.length]!;
      const from = 0.1 + 0.07 * i;
      await t.page.evaluate(() => performance.clearMarks());
      await dragZoom(t.page, key, from, from + 0.01);
      const done = await t.page.waitForFunction(
        (k) => {
          const zoom = performance.getEntriesByName("tt-chart-zoom").at(-1) as unknown as BrowserMark | undefined;
          if (!zoom) return undefined;
          const want = `${zoom.detail.min}-${zoom.detail.max}`;
          const drawn = performance
            .getEntriesByName("tt-chart-drawn")
            .find((m) => (m as unknown as BrowserMark).detail.key === k && (m as unknown as BrowserMark).detail.zoom === want && m.startTime >= zoom.startTime);
          return drawn ? { ms: drawn.startTime - zoom.startTime, range: want, points: (drawn as unknown as BrowserMark).detail.points } : undefined;
        },
        key,
        { timeout: 30_000 },
      );
      const r = (await done.jsonValue()) as { ms: number; range: string; points: number };
      zooms.push(r.ms);
      if (i === 0) console.log(`zoom sample: ${key} steps ${r.range}, ${r.points} points`);
      await resetZoom(t.page, key);
      await t.page.waitForFunction((k) => document.querySelector(`figure.metric-chart[data-chart-key="${k}"]`)?.getAttribute("data-zoom") === "", key);
    }
    const drawn = await chartsDrawn(t.page);

    console.log("");
    console.log(`run page, ${METRICS} metrics × ${POINTS.toLocaleString()} points (Chromium ${browser.browser.version()}, median of ${LOADS} loads / ${ZOOMS} zooms)`);
    console.log(`  points per chart after server downsampling: ${drawn.map((c) => c.points).join(", ")}`);
    const row = (name: string, v: number, target: number) => console.log(`  ${name.padEnd(36)} ${ms(v).padStart(8)}   target < ${ms(target)}   ${v < target ? "ok" : "MISSED"}`);
    row("first chart drawn", median(first), 1000);
    row("all charts drawn", median(all), 2000);
    row("zoom into 1 % of steps: detail drawn", median(zooms), 300);
    console.log(`  (loads: first ${first.map(ms).join(", ")}; all ${all.map(ms).join(", ")}; zooms ${zooms.map(ms).join(", ")})`);
    if (t.errors.length > 0) console.log(`browser errors: ${t.errors.join("; ")}`);
    await t.close();
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
