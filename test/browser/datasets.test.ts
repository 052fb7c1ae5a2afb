/**
 * The datasets pages in a real browser, on data created through the API:
 * the list → a dataset's versions → a version with its metadata, parents and
 * children, 120 artefacts in pages, the first rows of a CSV, the first lines
 * of a text file, a Parquet file's first rows and schema (snappy, and zstd
 * with gzip, read by ranged GETs), a binary file's size and hash,
 * and a download link that saves the artefact's bytes.
 */
import type { Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { bytesOf, sha256, upload } from "../support/data.js";
import type { TestServer } from "../support/server.js";
import { PARQUET_FIXTURE, PARQUET_FIXTURE_WIDE } from "../support/parquet-fixture.js";
import { uniqueSuffix } from "../support/services.js";
import { downloaded, launchBrowser, signIn, startUiServer, type TestBrowser } from "./support/browser.js";

const SHARDS = 115; // with README.txt, events.parquet, train.csv, weights.bin and wide.parquet: 120 artefacts, three pages of 50

/** 200 rows whose fields need quoting: a comma, a doubled quote, a line break. */
const csv = Buffer.from(
  ["id,name,score", ...Array.from({ length: 200 }, (_, i) => `${i},"row ${i}, ""q""${i === 3 ? "\nsecond line" : ""}",${(i * 0.25).toFixed(2)}`)].join("\n") + "\n",
);
const readme = Buffer.from(Array.from({ length: 400 }, (_, i) => `line ${i}: the churn export, cleaned`).join("\n"));
const weights = bytesOf(70_000, 5);

/** A table's column names: each header's first text (a Parquet column's type is under it). */
const headerNames = (table: Locator) => table.locator("thead th").evaluateAll((ths) => ths.map((th) => th.firstChild?.textContent ?? ""));
const cellTexts = (table: Locator) => table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));

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
      { uploadId: (await upload(uploads, "wide.parquet", PARQUET_FIXTURE_WIDE)).uploadId, path: "wide.parquet" },
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

    // A Parquet file (snappy, two row groups): its first rows and its schema, read with ranged GETs of the download route.
    const parquetReads: (string | undefined)[] = [];
    page.on("request", (r) => {
      if (/\/artefacts\/(events|wide)\.parquet$/.test(r.url())) parquetReads.push(r.headers().range);
    });
    await page.getByRole("button", { name: "events.parquet" }).click();
    await expect.poll(() => page.getByTestId("parquet-summary").textContent()).toMatch(/^5 rows in 2 row groups, 6 columns · written by parquet-cpp-arrow/);
    const parquetRows = page.getByTestId("parquet-rows");
    await parquetRows.waitFor();
    expect(await page.getByTestId("parquet-rows-note").textContent()).toBe("First 5 of 5 rows");
    expect(await headerNames(parquetRows)).toEqual(["id", "name", "score", "at", "price", "tags"]);
    expect(await parquetRows.locator("thead th .parquet-type").allTextContents()).toEqual(["STRING", "TIMESTAMP(ms, UTC)", "DECIMAL(10, 2)", "LIST"]);
    expect(await cellTexts(parquetRows)).toEqual([
      ["1", "a", "0.5", "2026-01-01 00:00:00Z", "1.25", '["x"]'],
      ["2", "b", "1.5", "2026-01-02 00:00:00Z", "1.25", '["y","z"]'],
      ["3", "null", "2.5", "2026-01-03 00:00:00Z", "1.25", "[]"],
      ["4", "d", "null", "2026-01-04 00:00:00Z", "1.25", "null"],
      ["5", "e", "4.5", "2026-01-05 00:00:00Z", "1.25", '["w"]'],
    ]);
    const schema = page.getByTestId("parquet-schema");
    expect(await schema.locator("tbody td:first-child").allTextContents()).toEqual(["id", "name", "score", "at", "price", "tags.list.element"]);
    expect(await schema.locator("tbody tr").nth(4).locator("td").nth(1).textContent()).toBe("DECIMAL(10, 2)");
    await page.locator(".parquet-schema > summary").click();
    await t.screenshot("dataset-parquet-preview");
    // The footer, then the column chunks: each a Range request, never the whole file.
    expect(parquetReads.length).toBeGreaterThanOrEqual(2);
    for (const range of parquetReads) expect(range).toMatch(/^bytes=\d+-\d+$/);

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

    // A wider Parquet file (zstd, gzip): the first 50 of its 60 rows, the first 50 of its 52 columns, long values cut.
    await page.getByRole("button", { name: "wide.parquet" }).click();
    const wide = page.getByRole("region", { name: "Preview of wide.parquet" }).getByTestId("parquet-rows");
    await wide.waitFor();
    expect(await page.getByTestId("parquet-rows-note").textContent()).toBe("First 50 of 60 rows · the first 50 columns (2 more not shown)");
    const wideHeader = await headerNames(wide);
    expect(wideHeader).toHaveLength(50);
    expect(wideHeader.slice(0, 8)).toEqual(["id", "flag", "day", "at", "label", "meta", "blob", "c07"]);
    expect(wideHeader.at(-1)).toBe("c49");
    const wideCells = await cellTexts(wide);
    expect(wideCells).toHaveLength(50);
    expect(wideCells[0]?.slice(0, 8)).toEqual(["1152921504606846977", "true", "2026-03-01", "2026-03-01 12:30:00Z", `${"long-".repeat(16).slice(0, 79)}…`, '{"a":0,"b":"m0"}', "0x0001ff", "7"]);
    expect(wideCells[2]?.slice(0, 5)).toEqual(["3", "null", "2026-03-03", "2026-03-01 14:30:00Z", "row 2"]);
    expect(wideCells[49]?.slice(0, 2)).toEqual(["50", "false"]);
    expect(await wide.locator("tbody tr").first().locator("td").nth(4).getAttribute("title")).toBe("long-".repeat(60));
    await t.screenshot("dataset-parquet-wide");
    for (const range of parquetReads) expect(range).toMatch(/^bytes=\d+-\d+$/);
    expect(t.errors).toEqual([]);
    await t.close();
  });
});
