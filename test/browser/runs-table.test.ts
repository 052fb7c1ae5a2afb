/**
 * The runs area in a real browser against a real server: projects and
 * experiments created through the API are listed, the runs table shows the
 * columns picked, sorts, filters through SearchRuns, sends a selection to the
 * compare page, and a large experiment paints and scrolls to its last run.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import type { TestServer } from "../support/server.js";
import { seedRuns, seededRun } from "./runs-fixtures.js";
import { launchBrowser, signIn, startUiServer, type TestBrowser, type TestPage } from "./support/browser.js";

const SMALL = 30;
// 10,000 runs take minutes to create through the API on a CI machine (about 70 CreateRun a second):
// the test pages through 2,000, bench/ui/runs-table.ts through 10,000.
const LARGE = Number(process.env.RUNS_TABLE_LARGE ?? 2_000);

let server: TestServer;
let browser: TestBrowser;
let ui: TestPage;
let page: Page;

beforeAll(async () => {
  server = await startUiServer("postgres+minio");
  browser = await launchBrowser();
  // One client: the runs are created in order, so the table's newest-first order is known.
  await seedRuns([server.client(ExperimentService, "connectH2")], "vision", "small", SMALL);
  ui = await browser.newPage();
  page = ui.page;
  await signIn(page, server.baseUrl, server.apiKey);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const table = () => page.getByRole("table", { name: /^Runs of / });
const rowNames = (p: Page) => p.locator('.vt-row [role="cell"]:nth-child(2)').allInnerTexts();
const firstRowName = async (p: Page) => (await rowNames(p))[0];

async function openExperiment(p: Page, experiment: string, query = "") {
  await p.goto(`${server.baseUrl}/projects/vision/experiments/${experiment}${query}`);
  await expect.poll(() => p.getByTestId("run-count").innerText()).toMatch(/^[\d,]+ runs$/);
}

describe("runs table", () => {
  it("goes from the projects to an experiment's runs", async () => {
    await page.goto(`${server.baseUrl}/projects`);
    await page.getByRole("link", { name: "vision" }).click();
    await page.getByRole("link", { name: "small" }).click();
    await expect.poll(() => page.getByTestId("run-count").innerText()).toBe(`${SMALL} runs`);
    expect(new URL(page.url()).pathname).toBe("/projects/vision/experiments/small");
    // Newest first: the last run created leads, each name links to its run.
    expect(await firstRowName(page)).toBe(seededRun(SMALL - 1).name);
    const href = await table().getByRole("link", { name: seededRun(0).name }).getAttribute("href");
    expect(href).toMatch(/^\/runs\/.+/);
    await ui.screenshot("runs-table");
    expect(ui.errors).toEqual([]);
  });

  it("shows a metric column chosen in the picker, and sorts by it", async () => {
    await openExperiment(page, "small");
    const picker = page.locator(".column-picker summary");
    await picker.click();
    await page.locator('[data-column-id="metrics.loss"]').check();
    await page.locator('[data-column-id="params.optimizer"]').check();
    expect(new URL(page.url()).searchParams.get("cols")).toBe("metrics.loss,params.optimizer");
    await picker.click();
    const lossOf = (name: string) => page.locator(".vt-row", { hasText: name }).locator('[role="cell"]').nth(5).innerText();
    expect(await lossOf(seededRun(3).name)).toBe(String(seededRun(3).loss.toPrecision(4)));

    const header = page.locator('[data-column="metrics.loss"] button');
    await header.click(); // ascending: the smallest loss (the last run) first
    await expect.poll(() => firstRowName(page)).toBe(seededRun(SMALL - 1).name);
    await header.click(); // descending: the first run (loss 1) first
    await expect.poll(() => firstRowName(page)).toBe(seededRun(0).name);
    expect(new URL(page.url()).searchParams.get("sort")).toBe("-metrics.loss");
    await ui.screenshot("runs-table-sorted");
    expect(ui.errors).toEqual([]);
  });

  it("narrows the runs with a filter, and shows what the server says is wrong", async () => {
    await openExperiment(page, "small");
    const box = page.getByLabel("Filter runs");
    await box.fill("metrics.loss < 0.1 and params.optimizer = adam");
    await box.press("Enter");
    // loss = 1/(i+1) < 0.1 for i >= 10; adam for odd i: 11, 13, … 29.
    await expect.poll(() => page.getByTestId("run-count").innerText()).toBe("10 runs");
    const names = await rowNames(page);
    expect(names.sort()).toEqual([11, 13, 15, 17, 19, 21, 23, 25, 27, 29].map((i) => seededRun(i).name));
    expect(new URL(page.url()).searchParams.get("filter")).toBe("metrics.loss < 0.1 and params.optimizer = adam");

    await box.fill("metrics.lo$s < 1");
    await box.press("Enter");
    await expect(page.getByRole("alert").innerText()).resolves.toContain("Could not search the runs");
    await ui.screenshot("runs-table-filter-error");

    await box.fill("metrics.loss = 1");
    await box.press("Enter");
    await expect(page.getByRole("alert").innerText()).resolves.toContain("metrics compare with <, <=, > or >=");
    // The server's error is a failed request the browser logs; nothing else may be.
    expect(ui.errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    ui.errors.length = 0;
  });

  it("compares the runs selected", async () => {
    await openExperiment(page, "small");
    const ids: string[] = [];
    for (const i of [2, 5]) {
      const name = seededRun(i).name;
      ids.push(((await table().getByRole("link", { name }).getAttribute("href")) as string).replace("/runs/", ""));
      await page.getByLabel(`Select ${name}`).check();
    }
    expect(new URL(page.url()).searchParams.get("sel")).toBe(ids.join(","));
    await page.getByRole("button", { name: "Compare" }).click();
    await expect.poll(() => page.url()).toBe(`${server.baseUrl}/compare?runs=${ids.join(",")}`);
    expect(ui.errors).toEqual([]);
  });

  it("tells a new organisation how to log its first run", async () => {
    const key = await server.newOrganization("fresh");
    const other = await browser.newPage();
    try {
      await signIn(other.page, server.baseUrl, key, "/projects");
      await expect(other.page.getByText("No projects yet.").innerText()).resolves.toBeTruthy();
      await expect(other.page.locator("pre.code").innerText()).resolves.toContain('client.start_run("churn", "baseline")');
      await other.screenshot("runs-no-projects");
      expect(other.errors).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it(`paints ${LARGE.toLocaleString("en")} runs and scrolls to the last one`, { timeout: 180_000 }, async () => {
    const clients = Array.from({ length: 16 }, () => server.client(ExperimentService, "connectH2"));
    const seeding = performance.now();
    await seedRuns(clients, "vision", "large", LARGE, { metrics: false });
    console.log(`seeded ${LARGE} runs in ${Math.round(performance.now() - seeding)} ms`);

    await page.goto(`${server.baseUrl}/projects/vision/experiments/large`);
    await page.locator(".vt-row").first().waitFor();
    expect(await firstRowName(page)).toMatch(/^run-\d{5}$/);
    await expect.poll(() => page.getByTestId("run-count").innerText(), { timeout: 60_000 }).toBe(`${LARGE.toLocaleString("en")} runs`);
    // Only the rows in view (and a few either side) are in the page.
    expect(await page.locator(".vt-row").count()).toBeLessThan(100);

    await table().evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    // Run 0 was created first, so it is the last row (newest first).
    await page.getByRole("link", { name: seededRun(0).name }).waitFor();
    const last = await page.locator(".vt-row").last().getAttribute("data-index");
    expect(Number(last)).toBe(LARGE - 1);
    await ui.screenshot("runs-table-large-bottom");
    expect(ui.errors).toEqual([]);
  });
});
