/**
 * Lineage in a real browser: from a model version back through the run that
 * made it to the dataset it learnt from, k hops out, expanded node by node,
 * each node linking to its page; recorded through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";
import { recordFailedPipelineRun, recordLineage } from "./graph-data.js";
import { launchBrowser, signIn, startUiServer, type TestBrowser } from "./support/browser.js";

const drawnKinds = (page: import("playwright-core").Page) =>
  page.$$eval(".graph-box[data-kind]", (els) => els.map((e) => `${e.getAttribute("data-kind")} ${e.getAttribute("data-label")}`).sort());

describe("lineage in the browser", () => {
  let server: TestServer;
  let browser: TestBrowser;
  const s = uniqueSuffix();
  let lineage: Awaited<ReturnType<typeof recordLineage>>;

  beforeAll(async () => {
    server = await startUiServer("postgres+minio");
    browser = await launchBrowser();
    lineage = await recordLineage(server, s);
    await recordFailedPipelineRun(server, s, lineage);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("goes from a model version back to its run and dataset, hop by hop and node by node", async () => {
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, `/lineage/model/${lineage.model}@${lineage.modelVersion}?dir=upstream`);
    await t.page.locator('.graph-view[data-laid-out="true"] .graph-box[data-kind="dataset"]').waitFor();
    expect(await drawnKinds(t.page)).toEqual(
      expect.arrayContaining([`dataset ${lineage.dataset} 1.0.0`, `model ${lineage.model} v1`, "run xgb/train-xgb", "step train"]),
    );
    const dataset = t.page.locator('.graph-box[data-kind="dataset"]').getByRole("link", { name: `${lineage.dataset} 1.0.0` });
    expect(await dataset.getAttribute("href")).toBe(`/datasets/${lineage.dataset}/1.0.0`);
    expect(await t.page.locator('.graph-box[data-kind="run"]').getByRole("link", { name: "xgb/train-xgb" }).getAttribute("href")).toBe(`/runs/${lineage.runId}`);
    await t.screenshot("lineage-model");

    // One hop: the run and the step that made the model, not yet the dataset.
    await t.page.getByLabel("Hops").selectOption("1");
    await expect.poll(() => t.page.locator('.graph-box[data-kind="dataset"]').count()).toBe(0);
    await t.page.locator('.graph-box[data-kind="run"]').waitFor();
    // Expanding the run brings its dataset in, and the URL keeps it.
    await t.page.locator('.graph-box[data-kind="run"] [data-expand]').click();
    await t.page.locator('.graph-box[data-kind="dataset"]').waitFor();
    expect(decodeURIComponent(t.page.url())).toContain(`expand=run/${lineage.runId}`);
    await t.screenshot("lineage-expanded");

    // A node links to its page.
    await t.page.locator('.graph-box[data-kind="dataset"]').getByRole("link", { name: `${lineage.dataset} 1.0.0` }).click();
    await t.page.waitForURL(`**/datasets/${lineage.dataset}/1.0.0`);
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("says what a wrong lineage link should look like", async () => {
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, "/lineage/model/no-version-here");
    await t.page.getByRole("alert").getByText("is not a lineage start").waitFor();
    expect(t.errors).toEqual([]);
    await t.close();
  });
});
