/**
 * Browser tests drive Debian's Chromium (`apt-get install chromium`, done by
 * test/scripts/install-tools.sh) through playwright-core, against a real
 * server serving the built UI (dist/ui, `npm run build:ui`). Never a browser
 * download. Each page records its console errors and uncaught exceptions, so
 * that a test can assert there were none; screenshots go to
 * test-results/browser/ to be looked at.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from "playwright-core";
import { type BackendName, type StartOptions, startTestServer, type TestServer } from "../../support/server.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const UI_DIR = path.join(ROOT, "dist/ui");
export const SCREENSHOTS = path.join(ROOT, "test-results/browser");

export function chromiumPath(): string {
  const candidates = [process.env.TRAINTRACK_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`Chromium not found (tried ${candidates.join(", ")}): run test/scripts/install-tools.sh, or set TRAINTRACK_CHROMIUM`);
  return found;
}

/** A server on `backend` that serves the built UI. */
export async function startUiServer(backend: BackendName, opts: StartOptions = {}): Promise<TestServer> {
  if (!existsSync(path.join(UI_DIR, "index.html"))) throw new Error(`${UI_DIR} has no build of the UI: run 'npm run build:ui' first`);
  return startTestServer(backend, { ...opts, env: { TRAINTRACK_UI_DIR: UI_DIR, ...opts.env } });
}

export interface TestPage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  /** Saves a full-page screenshot as test-results/browser/<name>.png. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (its own cookies) and page, 1280×800. */
  newPage(): Promise<TestPage>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    browser,
    async newPage() {
      const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => errors.push(`exception: ${e.message}`));
      return {
        page,
        errors,
        screenshot: async (name) => {
          await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

/** Signs in on the sign-in page with `apiKey` and waits for the signed-in shell. */
export async function signIn(page: Page, baseUrl: string, apiKey: string, at = "/"): Promise<void> {
  await page.goto(`${baseUrl}${at}`);
  await page.getByPlaceholder("tt_…").fill(apiKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Clicks a download link and returns the file's name and the bytes the browser saved. */
export async function downloaded(page: Page, link: Locator): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  return { name: download.suggestedFilename(), bytes: await readFile((await download.path()) as string) };
}
