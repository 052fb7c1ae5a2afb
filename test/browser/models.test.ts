/**
 * The model registry in a real browser: a model registered through the API
 * with three versions made by a run with metrics, an alias moved twice (the
 * timeline shows which version held it when), a model card rendered from
 * Markdown with a <script> in it shown as text and never run, the files, the
 * lineage link; and a viewer sees every write greyed out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { ModelService } from "../../gen/traintrack/v1/model_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { bytesOf, upload } from "../support/data.js";
import type { TestServer } from "../support/server.js";
import { downloaded, launchBrowser, signIn, startUiServer, type TestBrowser } from "./support/browser.js";
import { everyWriteSettled } from "./support/writes.js";

const MODEL = "churn-xgb";
const CARD = [
  "# Churn model",
  "",
  "Predicts **churn** from the CRM export. See [the report](https://example.com/report) or [this](javascript:alert(1)).",
  "",
  "- trained on `customer_churn` 1.0.0",
  "- AUC 0.91",
  "",
  "```python",
  "model.predict(x)",
  "```",
  "",
  "<script>window.__cardRan = true</script>",
].join("\n");

describe("models", () => {
  let server: TestServer;
  let browser: TestBrowser;
  let runId = "";

  beforeAll(async () => {
    server = await startUiServer("postgres+minio");
    browser = await launchBrowser();
    const experiments = server.client(ExperimentService);
    runId = (await experiments.createRun({ project: "churn", experiment: "xgb", name: "baseline" })).run?.runId ?? "";
    await experiments.logMetrics({
      runId,
      batchId: "b1",
      points: [
        { key: "auc", value: 0.91, step: 10n },
        { key: "loss", value: 0.25, step: 10n },
      ],
    });
    const up = await upload(server.client(UploadService), "weights.bin", bytesOf(2048, 7));
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: up.uploadId, path: "model/weights.bin" }] });
    const models = server.client(ModelService);
    await models.createRegisteredModel({ name: MODEL, project: "churn", description: "Gradient-boosted churn classifier." });
    for (let i = 1; i <= 3; i++) {
      await models.createModelVersion({
        model: MODEL,
        source: { case: "runArtefacts", value: { runId, pathPrefix: "model/" } },
        framework: "xgboost",
        description: i === 2 ? CARD : `version ${i}`,
      });
    }
    await models.setModelAlias({ model: MODEL, alias: "production", version: 1n, reason: "first release" });
    await models.setModelAlias({ model: MODEL, alias: "production", version: 2n, reason: "better auc" });
    await models.setModelAlias({ model: MODEL, alias: "staging", version: 3n });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("lists models, and a model's versions with their run's metrics and the alias history as a timeline", async () => {
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, "/models");
    await t.page.getByRole("link", { name: MODEL }).waitFor();
    expect(await t.page.locator(`tr[data-model="${MODEL}"]`).textContent()).toContain("Gradient-boosted churn classifier.");
    await t.screenshot("models");

    await t.page.getByRole("link", { name: MODEL }).click();
    await t.page.locator("tr[data-version]").nth(2).waitFor();
    expect(await t.page.locator("tr[data-version]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-version")))).toEqual(["3", "2", "1"]);
    // Each version shows its run, linked, and the run's latest metrics.
    const v2 = t.page.locator('tr[data-version="2"]');
    await v2.locator('[data-metric="auc"]').waitFor();
    expect(await v2.locator('[data-metric="auc"]').getAttribute("data-value")).toBe("0.91");
    expect(await v2.getByRole("link", { name: "baseline" }).getAttribute("href")).toBe(`/runs/${runId}`);
    expect(await v2.textContent()).toContain("production");

    // The timeline: production was v1, then v2 (until now); staging is v3.
    const production = t.page.locator('.lane[data-alias="production"] .segment');
    expect(await production.evaluateAll((s) => s.map((e) => [e.getAttribute("data-version"), e.getAttribute("data-until") === "now"]))).toEqual([
      ["1", false],
      ["2", true],
    ]);
    const [first, second] = await production.evaluateAll((s) => s.map((e) => [Number(e.getAttribute("data-from")), Number(e.getAttribute("data-until"))]));
    expect(first?.[1]).toBe(second?.[0]);
    expect(await t.page.locator('.lane[data-alias="staging"] .segment').getAttribute("data-version")).toBe("3");
    expect(await t.page.locator("tr[data-move]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-move")))).toEqual([
      "staging:0->3",
      "production:1->2",
      "production:0->1",
    ]);
    expect(await t.page.locator('tr[data-move="production:1->2"]').textContent()).toContain("better auc");
    await everyWriteSettled(t.page);
    expect(await t.page.getByRole("button", { name: "Set alias" }).isEnabled()).toBe(true);
    await t.screenshot("model");
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("moves an alias from the page, and the timeline gains the move", async () => {
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, `/models/${MODEL}`);
    await everyWriteSettled(t.page);
    await t.page.getByLabel("Alias", { exact: true }).fill("staging");
    await t.page.getByLabel("Version").fill("2");
    await t.page.getByLabel("Reason").fill("promote v2");
    await t.page.getByRole("button", { name: "Set alias" }).click();
    await t.page.locator('tr[data-move="staging:3->2"]').waitFor();
    expect(await t.page.locator('.lane[data-alias="staging"] .segment').evaluateAll((s) => s.map((e) => e.getAttribute("data-version")))).toEqual(["3", "2"]);
    const history = await server.client(ModelService).getModelAliasHistory({ model: MODEL, alias: "staging" });
    expect(history.moves[0]).toMatchObject({ fromVersion: 3n, toVersion: 2n, reason: "promote v2" });
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("renders a version's model card as safe Markdown, its metrics, files and lineage link", async () => {
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, `/models/${MODEL}/versions/2`);
    const card = t.page.locator(".model-card");
    await card.getByRole("heading", { name: "Churn model" }).waitFor();
    expect(await card.locator("strong").textContent()).toBe("churn");
    expect(await card.locator("li").allTextContents()).toEqual(["trained on customer_churn 1.0.0", "AUC 0.91"]);
    expect(await card.locator("pre code").textContent()).toBe("model.predict(x)");
    // Only the http(s) link is a link; the javascript: one stays text.
    expect(await card.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")))).toEqual(["https://example.com/report"]);
    expect(await card.textContent()).toContain("[this](javascript:alert(1))");
    // The <script> is text on the page, never an element, never run.
    expect(await card.textContent()).toContain("<script>window.__cardRan = true</script>");
    expect(await card.locator("script").count()).toBe(0);
    expect(await t.page.evaluate(() => (globalThis as Record<string, unknown>).__cardRan)).toBeUndefined();

    await t.page.locator('table.metrics [data-metric="loss"]').waitFor();
    expect(await t.page.locator('table.metrics [data-metric="loss"]').textContent()).toContain("0.25");
    await t.page.locator('tr[data-file="weights.bin"]').waitFor();
    expect(await t.page.locator('tr[data-file="weights.bin"]').textContent()).toContain("2.0 KiB");
    const file = await downloaded(t.page, t.page.getByRole("link", { name: "weights.bin" }));
    expect(file.name).toBe("weights.bin");
    expect(file.bytes.equals(bytesOf(2048, 7))).toBe(true);
    expect(await t.page.getByRole("link", { name: "Lineage graph →" }).getAttribute("href")).toBe(`/lineage/model/${encodeURIComponent(`${MODEL}@2`)}`);
    expect(await t.page.getByRole("link", { name: runId }).getAttribute("href")).toBe(`/runs/${runId}`);
    await t.screenshot("model-version");
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("greys out every write for a viewer, and shows no Admin link", async () => {
    const userId = (await server.client(UserService).createUser({ userName: "vera", displayName: "Vera Viewer", role: Role.VIEWER })).user?.id ?? "";
    const { secret } = await server.client(ApiKeyService).createApiKey({ name: "vera's key", userId });
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, secret, `/models/${MODEL}`);
    await t.page.locator("tr[data-version]").first().waitFor();
    const writes = await everyWriteSettled(t.page);
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) {
      expect(w.disabled).toBe(true);
      expect(w.title).toContain("does not allow");
    }
    expect(await t.page.locator(".topbar nav").getByRole("link", { name: "Admin" }).count()).toBe(0);
    await t.screenshot("model-as-viewer");
    expect(t.errors).toEqual([]);
    await t.close();
  });
});
