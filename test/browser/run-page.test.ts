/**
 * The run page in a real browser: a run's params, tags, input dataset,
 * artefacts and charts render from data created through the API; a large run
 * (10 metrics × 1,000,000 points, seeded through LogMetrics in about a
 * minute) is drawn downsampled with its spikes kept, and zooming re-fetches
 * the selected steps in finer detail, down to every point. How fast is
 * `npm run bench:ui`'s to measure, not this test's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService, RunStatus } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { upload } from "../support/data.js";
import type { TestServer } from "../support/server.js";
import { downloaded, launchBrowser, startUiServer, type TestBrowser } from "./support/browser.js";
import { chartOf, chartsDrawn, openSignedIn, dragZoom, resetZoom } from "./support/charts.js";
import { seedMetrics, spikeStep, valueAt } from "./support/metrics.js";

const BIG_POINTS = 1_000_000;
const BIG_KEYS = Array.from({ length: 10 }, (_, i) => `metric_${i}`);

describe("the run page", () => {
  let server: TestServer;
  let browser: TestBrowser;
  let smallRun = "";
  let bigRun = "";

  beforeAll(async () => {
    server = await startUiServer("postgres+minio");
    browser = await launchBrowser();
    const experiments = server.client(ExperimentService);
    const staged = await upload(server.client(UploadService), "churn.csv", Buffer.from("id,label\n1,yes\n"));
    await server.client(DatasetService).createDataset({ name: "customer_churn", version: "1.0.0", artefacts: [{ uploadId: staged.uploadId }] });

    const { run } = await experiments.createRun({
      project: "vision",
      experiment: "resnet",
      name: "baseline-lr3e-4",
      params: { lr: "0.0003", optimizer: "adamw" },
      tags: { team: "perception", stage: "baseline" },
    });
    smallRun = run!.runId;
    await experiments.useDatasets({ runId: smallRun, datasets: [{ name: "customer_churn", version: "1.0.0" }] });
    const points = [];
    for (let step = 0; step < 500; step++) {
      points.push({ key: "loss", value: 2 / (1 + step), step: BigInt(step) });
      points.push({ key: "accuracy", value: step / 500, step: BigInt(step) });
    }
    await experiments.logMetrics({ runId: smallRun, batchId: "b1", points });
    const model = await upload(server.client(UploadService), "model.pt", Buffer.from("weights"));
    await server.client(RunArtefactService).logRunArtefacts({ runId: smallRun, artefacts: [{ uploadId: model.uploadId, path: "checkpoints/model.pt" }] });
    await experiments.updateRunStatus({ runId: smallRun, status: RunStatus.FINISHED });

    const big = await experiments.createRun({ project: "vision", experiment: "resnet", name: "long-run" });
    bigRun = big.run!.runId;
    await seedMetrics(experiments, bigRun, BIG_KEYS, BIG_POINTS);
    await experiments.updateRunStatus({ runId: bigRun, status: RunStatus.FINISHED });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows a run's params, tags, input dataset, artefacts and a chart per metric", async () => {
    const t = await browser.newPage();
    await openSignedIn(t, server, `/runs/${smallRun}`);
    await t.page.getByRole("heading", { name: "baseline-lr3e-4" }).waitFor();
    await t.page.getByText("checkpoints/model.pt").waitFor();
    const text = await t.page.locator("main").innerText();
    for (const s of ["lr", "0.0003", "optimizer", "adamw", "team", "perception", "finished", "checkpoints/model.pt"]) expect(text).toContain(s);
    const input = t.page.getByRole("link", { name: "customer_churn 1.0.0" });
    expect(await input.getAttribute("href")).toBe("/datasets/customer_churn/1.0.0");
    // An artefact's path is a link that saves its bytes.
    const file = await downloaded(t.page, t.page.getByRole("link", { name: "checkpoints/model.pt" }));
    expect(file).toEqual({ name: "model.pt", bytes: Buffer.from("weights") });

    await expect.poll(async () => (await chartsDrawn(t.page)).filter((c) => c.drawn > 0).length).toBe(2);
    const loss = await chartOf(t.page, "loss");
    // 500 points fit the chart's width: drawn as logged, not downsampled.
    expect(loss).toMatchObject({ points: 500, stepMin: 0, stepMax: 499, yMax: 2, downsampled: false, zoom: "" });
    expect(loss!.yMin).toBeCloseTo(2 / 500, 10);
    const accuracy = await chartOf(t.page, "accuracy");
    expect(accuracy).toMatchObject({ points: 500, yMin: 0, yMax: 499 / 500 });
    await t.screenshot("run-page");

    // Wall-time axis, log scale and smoothing come from the URL: the smoothed line is drawn over the faint raw one.
    await t.page.goto(`${server.baseUrl}/runs/${smallRun}?x=time&log=1&smooth=0.8`);
    await expect.poll(async () => (await chartOf(t.page, "loss"))?.drawn ?? 0).toBeGreaterThan(0);
    expect(await t.page.getByLabel("log scale").isChecked()).toBe(true);
    const legend = t.page.locator('figure.metric-chart[data-chart-key="loss"] .u-legend .u-series');
    expect(await legend.count()).toBe(3);
    expect(await legend.nth(1).isVisible()).toBe(false);
    expect(await legend.nth(2).innerText()).toContain("baseline-lr3e-4");
    expect(await chartOf(t.page, "loss")).toMatchObject({ points: 500, yMax: 2 });
    await t.screenshot("run-page-options");
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("follows a running run: new points show without a reload", async () => {
    const experiments = server.client(ExperimentService);
    const { run } = await experiments.createRun({ project: "vision", experiment: "resnet", name: "still-training" });
    const runId = run!.runId;
    const log = (from: number, to: number) =>
      experiments.logMetrics({
        runId,
        batchId: `live-${from}`,
        points: Array.from({ length: to - from }, (_, i) => ({ key: "loss", value: 1 / (1 + from + i), step: BigInt(from + i) })),
      });
    await log(0, 100);
    const t = await browser.newPage();
    await openSignedIn(t, server, `/runs/${runId}`);
    await expect.poll(async () => (await chartOf(t.page, "loss"))?.points).toBe(100);
    expect(await t.page.locator(".live").innerText()).toContain("live");
    await log(100, 250);
    // The chart refreshes every few seconds while the run is running.
    await expect.poll(async () => (await chartOf(t.page, "loss"))?.stepMax, { timeout: 20_000, interval: 500 }).toBe(249);
    await experiments.updateRunStatus({ runId, status: RunStatus.FINISHED });
    await t.page.locator(".status.finished").waitFor({ timeout: 20_000 });
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("draws 10 metrics × 1,000,000 points downsampled with the spikes kept, and zoom re-fetches the range in finer detail down to every point", async () => {
    const t = await browser.newPage();
    await openSignedIn(t, server, `/runs/${bigRun}`);
    await expect.poll(async () => (await chartsDrawn(t.page)).filter((c) => c.drawn > 0).length, { timeout: 20_000 }).toBe(10);
    const before = await chartsDrawn(t.page);
    for (const [k, c] of before.map((c) => [BIG_KEYS.indexOf(c.key), c] as const)) {
      expect(c.downsampled).toBe(true);
      // About two points per pixel of a chart at most 1280 px wide.
      expect(c.points).toBeLessThanOrEqual(2600);
      // The first and last buckets keep their extremes, which need not be the first and last steps.
      expect(c.stepMin).toBeLessThan(BIG_POINTS / 1000);
      expect(c.stepMax).toBeGreaterThan(BIG_POINTS - BIG_POINTS / 1000);
      // Each key's one-step spike is its maximum: min/max buckets keep it.
      expect(c.yMax).toBe(valueAt(k, spikeStep(BIG_POINTS), BIG_POINTS));
    }
    await t.screenshot("run-page-large");

    const key = "metric_3";
    const whole = (await chartOf(t.page, key))!;
    await dragZoom(t.page, key, 0.4, 0.41);
    await expect.poll(async () => (await chartOf(t.page, key))?.zoom, { timeout: 10_000 }).toMatch(/^\d+-\d+$/);
    const zoomed = (await chartOf(t.page, key))!;
    const [lo, hi] = zoomed.zoom.split("-").map(Number) as [number, number];
    // About 1 % of the steps, read again from the server: only that range, far finer than the whole-run view had it.
    expect(hi - lo).toBeGreaterThan(BIG_POINTS * 0.005);
    expect(hi - lo).toBeLessThan(BIG_POINTS * 0.02);
    expect(zoomed.stepMin).toBeGreaterThanOrEqual(lo);
    expect(zoomed.stepMax).toBeLessThanOrEqual(hi);
    expect(zoomed.points).toBeGreaterThan((whole.points * (hi - lo)) / BIG_POINTS * 10);
    // Zooming again, into about a tenth of that (fewer steps than the chart has pixels): every point, as logged.
    await dragZoom(t.page, key, 0.45, 0.55);
    await expect.poll(async () => (await chartOf(t.page, key))?.zoom, { timeout: 10_000 }).not.toBe(zoomed.zoom);
    const detail = (await chartOf(t.page, key))!;
    const [lo2, hi2] = detail.zoom.split("-").map(Number) as [number, number];
    expect(lo2).toBeGreaterThanOrEqual(lo);
    expect(hi2).toBeLessThanOrEqual(hi);
    expect(detail.downsampled).toBe(false);
    expect(detail.points).toBe(hi2 - lo2 + 1);
    await t.screenshot("run-page-zoomed");

    await resetZoom(t.page, key);
    await expect.poll(async () => (await chartOf(t.page, key))?.zoom).toBe("");
    expect(await chartOf(t.page, key)).toMatchObject({ downsampled: true, points: whole.points, yMax: whole.yMax });
    expect(t.errors).toEqual([]);
    await t.close();
  });
});
