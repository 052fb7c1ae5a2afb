/**
 * The datasets pages in a real browser, on data created through the API:
 * the list → a dataset's versions → a version with its metadata, parents and
 * children, 120 artefacts in pages, the first rows of a CSV, the first lines
 * of a text file, a Parquet file's columns, a binary file's size and hash,
 * and a download link that saves the artefact's bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { bytesOf, sha256, upload } from "../support/data.js";
import type { TestServer } from "../support/server.js";
import { PARQUET_FIXTURE } from "../support/parquet-fixture.js";
import { uniqueSuffix } from "../support/services.js";
import { downloaded, launchBrowser, signIn, startUiServer, type TestBrowser } from "./support/browser.js";

const SHARDS = 116; // with README.txt, events.parquet, train.csv and weights.bin: 120 artefacts, three pages of 50

/** 200 rows whose fields need quoting: a comma, a doubled quote, a line break. */
const csv = Buffer.from(
  ["id,name,score", ...Array.from({ length: 200 }, (_, i) => `${i},"row ${i}, ""q""${i === 3 ? "\nsecond line" : ""}",${(i * 0.25).toFixed(2)}`)].join("\n") + "\n",
);
const readme = Buffer.from(Array.from({ length: 400 }, (_, i) => `line ${i}: the churn export, cleaned`).join("\n"));
const weights = bytesOf(70_000, 5);

describe("datasets pages", () => {
  let server: TestServer;
  let browser: TestBrowser;
  const name = `churn-${uniqueSuffix()}`;

  beforeAll(async () => {
    server = await startUiServer("postgres+minio");
    browser = await launchBrowser();
    const uploads = server.client(UploadService);
    const datasets = server.client(DatasetService);
    const raw = await upload(uploads, "raw.csv", Buffer.from("id\n1\n"));
    await datasets.createDataset({ name, version: "0.9", description: "raw export", artefacts: [{ uploadId: raw.uploadId, path: "raw.csv" }] });
    const artefacts = [
      { uploadId: (await upload(uploads, "train.csv", csv)).uploadId, path: "train.csv" },
      { uploadId: (await upload(uploads, "README.txt", readme)).uploadId, path: "README.txt" },
      { uploadId: (await upload(uploads, "weights.bin", weights)).uploadId, path: "weights.bin" },
      { uploadId: (await upload(uploads, "events.parquet", PARQUET_FIXTURE)).uploadId, path: "events.parquet" },
    ];
    for (let i = 0; i < SHARDS; i++) {
      artefacts.push({ uploadId: (await upload(uploads, "s.bin", bytesOf(100 + i, i + 100))).uploadId, path: `shards/shard-${String(i).padStart(3, "0")}.bin` });
    }
    await datasets.createDataset({
      name,
      version: "1.0",
      description: "Cleaned churn export: one row per customer.",
      metadata: { source: "s3://crm/exports/2026-11", rows: "200" },
      artefacts,
      derivedFrom: [{ name, version: "0.9" }],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("goes from the list to a dataset's versions to a version, with its facts and lineage", async () => {
    const t = await browser.newPage();
    const { page } = t;
    await signIn(page, server.baseUrl, server.apiKey, "/datasets");
    await page.getByPlaceholder("Name starts with…").fill(name.slice(0, 8));
    await page.getByRole("link", { name, exact: true }).waitFor();
    await t.screenshot("datasets-list");

    await page.getByRole("link", { name, exact: true }).click();
    await page.getByRole("heading", { name }).waitFor();
    const versions = page.locator("table.grid tbody tr");
    await expect.poll(() => versions.allTextContents()).toHaveLength(2);
    // Newest first, with their sizes and parents.
    expect((await versions.nth(0).textContent()) ?? "").toMatch(/^1\.0.*120.*0\.9/);
    expect(await versions.nth(1).textContent()).toContain("raw export");
    await t.screenshot("dataset-versions");

    await page.getByRole("link", { name: "1.0", exact: true }).click();
    await page.getByText("Cleaned churn export: one row per customer.").waitFor();
    const metadata = page.getByRole("table", { name: "Metadata" });
    expect(await metadata.textContent()).toContain("s3://crm/exports/2026-11");
    expect(await page.getByRole("table", { name: "Version" }).textContent()).toContain("120");
    const lineage = page.locator(".lineage-summary");
    expect(await lineage.getByRole("link", { name: `${name} 0.9` }).getAttribute("href")).toBe(`/datasets/${name}/0.9`);
    expect(await lineage.getByRole("link", { name: /Lineage graph/ }).getAttribute("href")).toBe(`/lineage/dataset/${encodeURIComponent(`${name}@1.0`)}`);
    expect(page.url()).toBe(`${server.baseUrl}/datasets/${name}/1.0`);

    // The parent lists its child.
    await lineage.getByRole("link", { name: `${name} 0.9` }).click();
    await page.locator(".lineage-summary").getByRole("link", { name: `${name} 1.0` }).waitFor();
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("pages through 120 artefacts, previews text and CSV, shows a binary file's hash, and downloads", async () => {
    const t = await browser.newPage();
    const { page } = t;
    await signIn(page, server.baseUrl, server.apiKey, `/datasets/${name}/1.0`);
    const rows = page.getByTestId("artefacts").locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(50);
    expect(await rows.first().textContent()).toContain("README.txt");
    // The first text file of the page is previewed: its first lines, none cut.
    const text = page.getByTestId("text-preview");
    await text.waitFor();
    const lines = ((await text.textContent()) ?? "").split("\n");
    expect(lines[0]).toBe("line 0: the churn export, cleaned");
    expect(lines.length).toBe(200);
    await t.screenshot("dataset-version");

    // A Parquet file: its columns and rows, from its footer.
    await page.getByRole("button", { name: "events.parquet" }).click();
    await expect.poll(() => page.getByTestId("parquet-summary").textContent()).toMatch(/^5 rows in 2 row groups, 6 columns · written by parquet-cpp-arrow/);
    const schema = page.getByTestId("parquet-schema");
    expect(await schema.locator("tbody td:first-child").allTextContents()).toEqual(["id", "name", "score", "at", "price", "tags.list.element"]);
    expect(await schema.locator("tbody tr").nth(4).locator("td").nth(1).textContent()).toBe("DECIMAL(10, 2)");
    await t.screenshot("dataset-parquet-preview");

    // Pages of 50, 50 and 20, by the server's tokens (kept in the URL).
    const seen = new Set<string>();
    for (const want of [50, 50, 20]) {
      await expect.poll(() => rows.count()).toBe(want);
      for (const r of await rows.locator("td:first-child").allTextContents()) seen.add(r);
      if (want === 20) break;
      const before = await rows.first().textContent();
      await page.getByRole("button", { name: "Next page →" }).click();
      await expect.poll(() => rows.first().textContent()).not.toBe(before);
    }
    expect(seen.size).toBe(120);
    expect(page.url()).toContain("page=");

    await page.getByRole("button", { name: "train.csv" }).click();
    const table = page.getByTestId("csv-preview");
    await table.waitFor();
    expect(await table.locator("thead th").allTextContents()).toEqual(["id", "name", "score"]);
    const csvRows = table.locator("tbody tr");
    expect(await csvRows.count()).toBe(50);
    expect(await csvRows.nth(1).locator("td").allTextContents()).toEqual(["1", 'row 1, "q"', "0.25"]);
    expect(await csvRows.nth(3).locator("td").nth(1).textContent()).toBe('row 3, "q"\nsecond line');
    expect(await csvRows.nth(49).locator("td").first().textContent()).toBe("49");
    expect(page.url()).toContain("preview=train.csv");
    await t.screenshot("dataset-csv-preview");

    // The download link saves the artefact's bytes.
    const preview = page.getByRole("region", { name: "Preview of train.csv" });
    const saved = await downloaded(page, preview.getByRole("link", { name: "Download" }));
    expect(saved.name).toBe("train.csv");
    expect(sha256(saved.bytes)).toBe(sha256(csv));

    await page.getByRole("button", { name: "weights.bin" }).click();
    await page.getByRole("region", { name: "Preview of weights.bin" }).getByText(sha256(weights)).waitFor();
    await t.screenshot("dataset-binary");
    expect(sha256((await downloaded(page, page.getByRole("link", { name: "Download weights.bin" }))).bytes)).toBe(sha256(weights));
    expect(t.errors).toEqual([]);
    await t.close();
  });
});
