/**
 * Pipelines in a real browser, with runs recorded through the API: the list
 * and a pipeline's runs; a run's DAG with a failed step and its skipped
 * downstream, a fan-out of 50 collapsed then expanded, a step's detail
 * linking to its run and outputs; a running run that updates by itself; and a
 * 5,000-step DAG laid out and drawn.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PipelineRunStatus, PipelineService, StepStatus } from "../../gen/traintrack/v1/pipeline_pb.js";
import type { TestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";
import { FAN_OUT, recordBigDag, recordFailedPipelineRun, recordLineage } from "./graph-data.js";
import { launchBrowser, signIn, startUiServer, type TestBrowser } from "./support/browser.js";

/** The drawn step boxes: node id → [status, instances, counts]. */
const drawnSteps = (page: import("playwright-core").Page) =>
  page.$$eval(".graph-box[data-node-id]", (els) => Object.fromEntries(els.map((e) => [e.getAttribute("data-node-id"), e.getAttribute("data-status")])));
const graphAttr = (page: import("playwright-core").Page, name: string) => page.locator(".graph-view").getAttribute(name);

describe("pipelines in the browser", () => {
  let server: TestServer;
  let browser: TestBrowser;
  const s = uniqueSuffix();
  let lineage: Awaited<ReturnType<typeof recordLineage>>;
  let failed: Awaited<ReturnType<typeof recordFailedPipelineRun>>;
  let big: Awaited<ReturnType<typeof recordBigDag>>;

  beforeAll(async () => {
    server = await startUiServer("postgres+minio");
    browser = await launchBrowser();
    lineage = await recordLineage(server, s);
    failed = await recordFailedPipelineRun(server, s, lineage);
    big = await recordBigDag(server, `big-${s}`);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("lists the pipelines and a pipeline's runs with their status and trigger", async () => {
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, "/pipelines");
    await t.page.getByRole("link", { name: failed.pipeline }).click();
    const row = t.page.locator(`tr[data-run-id="${failed.pipelineRunId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/failed.*schedule/);
    expect(await row.textContent()).toContain(`${FAN_OUT + 2} succeeded`);
    await t.screenshot("pipeline-runs");
    await row.getByRole("link").click();
    await t.page.waitForURL(`**/pipeline-runs/${failed.pipelineRunId}`);
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("draws a run's DAG in status colours, the fan-out collapsed then expanded, and a step's detail", async () => {
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, `/pipeline-runs/${failed.pipelineRunId}`);
    await t.page.locator('.graph-view[data-laid-out="true"] .graph-box[data-node-id="publish"]').waitFor();
    expect(await drawnSteps(t.page)).toEqual({ extract: "succeeded", features: "succeeded", train: "failed", evaluate: "skipped", publish: "skipped", score: "succeeded" });
    const score = t.page.locator('.graph-box[data-node-id="score"]');
    expect(await score.getAttribute("data-instances")).toBe(String(FAN_OUT));
    expect(await score.getAttribute("data-counts")).toBe(`${FAN_OUT} succeeded`);
    expect(await score.textContent()).toContain(`×${FAN_OUT}`);
    expect(await graphAttr(t.page, "data-layout")).toBe("elk");
    await t.screenshot("pipeline-run");

    // A step's detail: why it failed, the run it was tracked as, what it wrote.
    await t.page.locator('.graph-box[data-node-id="train"]').click();
    const detail = t.page.locator('[data-step-detail="train"]');
    await detail.getByText("CUDA out of memory").waitFor();
    expect(await detail.getByRole("link", { name: lineage.runId }).getAttribute("href")).toBe(`/runs/${lineage.runId}`);
    expect(await detail.getByRole("link", { name: `${lineage.model} v1` }).getAttribute("href")).toBe(`/models/${lineage.model}/versions/1`);
    expect(t.page.url()).toContain("node=train");
    await t.screenshot("pipeline-step");

    // The fan-out expanded: one node per instance, asked of the server.
    await t.page.getByLabel("Expand fan-outs").check();
    await expect.poll(() => graphAttr(t.page, "data-node-count")).toBe(String(5 + FAN_OUT));
    await t.page.locator('.graph-view[data-laid-out="true"]').waitFor();
    await expect.poll(() => t.page.locator('.graph-box[data-step="score"]').count()).toBe(FAN_OUT);
    expect(await t.page.locator('.graph-box[data-node-id="score[49]"]').getAttribute("data-status")).toBe("succeeded");
    expect(t.page.url()).toContain("expand=1");
    await t.screenshot("pipeline-run-expanded");
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("follows a running run until it ends", async () => {
    const pipelines = server.client(PipelineService);
    const pipelineRunId = (await pipelines.startPipelineRun({ pipeline: `live-${s}`, createPipeline: true })).run?.id ?? "";
    await pipelines.startStep({ pipelineRunId, name: "load" });
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, `/pipeline-runs/${pipelineRunId}`);
    const load = t.page.locator('.graph-box[data-node-id="load"]');
    expect(await load.getAttribute("data-status")).toBe("running");
    await t.page.locator("[data-live]").waitFor();

    await pipelines.startStep({ pipelineRunId, name: "train", upstream: ["load"] });
    await pipelines.finishStep({ pipelineRunId, name: "load", status: StepStatus.SUCCEEDED });
    await expect.poll(() => drawnSteps(t.page), { timeout: 15_000 }).toEqual({ load: "succeeded", train: "running" });
    await pipelines.finishStep({ pipelineRunId, name: "train", status: StepStatus.SUCCEEDED });
    await pipelines.finishPipelineRun({ pipelineRunId, status: PipelineRunStatus.SUCCEEDED });
    await expect.poll(() => drawnSteps(t.page), { timeout: 15_000 }).toEqual({ load: "succeeded", train: "succeeded" });
    await t.page.locator("[data-live]").waitFor({ state: "detached" });
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("lays out and draws a DAG of 5,000 steps, drawing only what is in view", async () => {
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, `/pipeline-runs/${big.pipelineRunId}`);
    await t.page.locator('.graph-view[data-laid-out="true"] .graph-box[data-node-id]').first().waitFor({ timeout: 60_000 });
    expect(await graphAttr(t.page, "data-node-count")).toBe(String(big.steps));
    expect(await graphAttr(t.page, "data-layout")).toBe("layered");
    const drawn = await t.page.locator(".graph-box[data-node-id]").count();
    expect(drawn).toBeGreaterThan(10);
    expect(drawn).toBeLessThan(big.steps);
    // It opens on the first layer.
    expect(await t.page.locator('.graph-box[data-node-id^="l0-"]').count()).toBeGreaterThan(0);
    console.log(`5,000-step DAG: laid out in ${await graphAttr(t.page, "data-layout-ms")} ms, drawn ${await graphAttr(t.page, "data-drawn-ms")} ms after the graph arrived; ${drawn} nodes drawn`);
    await t.screenshot("pipeline-run-5000");
    expect(t.errors).toEqual([]);
    await t.close();
  });
});
