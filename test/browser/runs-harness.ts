/**
 * A stand-in for test/browser/support/browser.ts until the server serves the
 * UI and its session endpoint: Chromium (Debian's, never a download) opens
 * dist/ui on the test server's origin; the page's files are answered from
 * dist/ui, /api/v1/session with a fixed session, and every API call goes to
 * the real server with the admin key added.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";

const DIST = fileURLToPath(new URL("../../dist/ui/", import.meta.url));
const TYPES: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml" };

export interface UiHarness {
  browser: Browser;
  page: Page;
  /** Console errors and page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export async function openUi(baseUrl: string, apiKey: string, viewport = { width: 1400, height: 900 }): Promise<UiHarness> {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  const context = await browser.newContext({ viewport });
  const errors: string[] = [];
  await context.route(`${baseUrl}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.startsWith("/traintrack.")) {
      await route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${apiKey}` } });
    } else if (url.pathname === "/api/v1/session") {
      await route.fulfill({ json: { csrfToken: "test", orgId: "", userId: "", expiresAt: "" } });
    } else {
      const file = url.pathname.startsWith("/assets/") ? url.pathname.slice(1) : "index.html";
      const body = await readFile(path.join(DIST, file));
      await route.fulfill({ body, contentType: TYPES[path.extname(file)] ?? "application/octet-stream" });
    }
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return { browser, page, errors, close: () => browser.close() };
}
