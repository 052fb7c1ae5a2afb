/**
 * Reading and driving metric charts in the browser: each chart element says
 * what it has drawn in data- attributes (ui/src/charts/metric-chart.tsx);
 * zooming is a mouse drag across the plot.
 */
import type { Page } from "playwright-core";
import type { TestServer } from "../../support/server.js";
import { signIn, type TestPage } from "./browser.js";

/** Signs in as the server's admin, then opens `at` as a page of its own (a load, not a client-side navigation). */
export async function openSignedIn(t: TestPage, server: TestServer, at: string): Promise<void> {
  await signIn(t.page, server.baseUrl, server.apiKey, "/");
  await t.page.goto(`${server.baseUrl}${at}`);
}

export interface Drawn {
  key: string;
  points: number;
  runs: number;
  stepMin: number;
  stepMax: number;
  yMin: number;
  yMax: number;
  downsampled: boolean;
  zoom: string;
  drawn: number;
}

/** What every chart of the page has drawn so far (charts not drawn yet have drawn = 0). */
export async function chartsDrawn(page: Page): Promise<Drawn[]> {
  return page.$$eval("figure.metric-chart", (els) =>
    els.map((el) => {
      const d = (el as unknown as { dataset: Record<string, string | undefined> }).dataset;
      return {
        key: d.chartKey ?? "",
        points: Number(d.points ?? 0),
        runs: Number(d.runs ?? 0),
        stepMin: Number(d.stepMin),
        stepMax: Number(d.stepMax),
        yMin: Number(d.yMin),
        yMax: Number(d.yMax),
        downsampled: d.downsampled === "true",
        zoom: d.zoom ?? "",
        drawn: Number(d.drawn ?? 0),
      };
    }),
  );
}

export async function chartOf(page: Page, key: string): Promise<Drawn | undefined> {
  return (await chartsDrawn(page)).find((c) => c.key === key);
}

/** Drags across the plot of `key`'s chart from fraction `from` to `to` of its width. */
export async function dragZoom(page: Page, key: string, from: number, to: number): Promise<void> {
  const over = page.locator(`figure.metric-chart[data-chart-key="${key}"] .u-over`);
  await over.scrollIntoViewIfNeeded();
  const box = await over.boundingBox();
  if (!box) throw new Error(`chart ${key} has no plot`);
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * from, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * to, y, { steps: 5 });
  await page.mouse.up();
}

export async function resetZoom(page: Page, key: string): Promise<void> {
  await page.locator(`figure.metric-chart[data-chart-key="${key}"] .u-over`).dblclick();
}
