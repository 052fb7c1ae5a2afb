/**
 * The compare page in a real browser: 20 runs overlaid on each metric's
 * chart, their params and latest metrics side by side with the differing
 * rows highlighted, and a param against a metric as a scatter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExperimentService, RunStatus } from "../../gen/traintrack/v1/experiment_pb.js";
import type { TestServer } from "../support/server.js";
import { launchBrowser, startUiServer, type TestBrowser } from "./support/browser.js";
import { chartOf, chartsDrawn, openSignedIn } from "./support/charts.js";

const RUNS = 20;
const STEPS = 300;

describe("comparing runs", () => {
  let server: TestServer;
  let browser: TestBrowser;
  const ids: string[] = [];

  beforeAll(async () => {
    server = await startUiServer("postgres+minio");
    browser = await launchBrowser();
    const experiments = server.client(ExperimentService);
    for (let i = 0; i < RUNS; i++) {
      const lr = (i + 1) / 1000;
      const { run } = await experiments.createRun({
        project: "nlp",
        experiment: "sweep",
        name: `sweep-${String(i).padStart(2, "0")}`,
        params: { lr: String(lr), batch_size: "64" },
      });
      const runId = run!.runId;
      ids.push(runId);
      const points = [];
      for (let step = 0; step < STEPS; step++) {
        points.push({ key: "loss", value: (1 + i) / (1 + step), step: BigInt(step) });
        points.push({ key: "accuracy", value: (step / STEPS) * (1 - i / 100), step: BigInt(step) });
      }
      await experiments.logMetrics({ runId, batchId: "all", points });
      await experiments.updateRunStatus({ runId, status: RunStatus.FINISHED });
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("overlays 20 runs on every chart, highlights differing params and plots a param against a metric", async () => {
    const t = await browser.newPage();
    await openSignedIn(t, server, `/compare?runs=${ids.join(",")}`);
    await t.page.getByRole("heading", { name: "Comparing 20 runs" }).waitFor();
    await expect.poll(async () => (await chartsDrawn(t.page)).filter((c) => c.drawn > 0).length, { timeout: 15_000 }).toBe(2);
    // Every run's every point is on each chart.
    expect(await chartOf(t.page, "loss")).toMatchObject({ runs: RUNS, points: RUNS * STEPS, stepMin: 0, stepMax: STEPS - 1, yMax: RUNS, downsampled: false });
    expect(await chartOf(t.page, "accuracy")).toMatchObject({ runs: RUNS, points: RUNS * STEPS, yMin: 0 });

    // Params and metrics side by side: lr differs between the runs, batch_size does not.
    const table = t.page.locator("table.diff-table");
    for (let i = 0; i < RUNS; i++) await table.getByRole("link", { name: `sweep-${String(i).padStart(2, "0")}` }).waitFor();
    const lrRow = table.locator("tr", { hasText: "lr" });
    expect(await lrRow.getAttribute("class")).toBe("differs");
    expect(await lrRow.innerText()).toContain("0.02");
    const batchRow = table.locator("tr", { hasText: "batch_size" });
    expect(await batchRow.getAttribute("class")).toBeNull();
    await t.page.getByLabel("only rows that differ").check();
    await expect.poll(() => table.locator("tr", { hasText: "batch_size" }).count()).toBe(0);
    expect(t.page.url()).toContain("diff=1");

    // The scatter: one dot per run, lr against the latest loss.
    const scatter = t.page.locator(".scatter svg");
    expect(await scatter.getAttribute("data-dots")).toBe(String(RUNS));
    expect(await scatter.getAttribute("aria-label")).toBe("accuracy against batch_size");
    await t.page.locator(".scatter select").first().selectOption("lr");
    await t.page.locator(".scatter select").nth(1).selectOption("loss");
    expect(await scatter.getAttribute("aria-label")).toBe("loss against lr");
    expect(await scatter.locator("circle").count()).toBe(RUNS);
    await t.screenshot("compare");
    expect(t.errors).toEqual([]);
    await t.close();
  });
});
