/**
 * Signing in and out in a real browser: an API key becomes a session cookie
 * the page cannot read, the datasets created through the API show, a wrong
 * key says what to do, and signing out (or revoking the key) ends the session.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import type { TestServer } from "../support/server.js";
import { upload } from "../support/data.js";
import { launchBrowser, signIn, startUiServer, type TestBrowser } from "./support/browser.js";

describe("signing in and out", () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    server = await startUiServer("postgres+minio");
    browser = await launchBrowser();
    const uploads = server.client(UploadService);
    const datasets = server.client(DatasetService);
    const staged = await upload(uploads, "churn.csv", Buffer.from("id,label\n1,yes\n"));
    await datasets.createDataset({ name: "customer_churn", version: "1.0.0", description: "export from CRM", artefacts: [{ uploadId: staged.uploadId }] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("signs in with a key, shows the organisation's datasets, and signs out", async () => {
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, server.apiKey, "/datasets");
    await t.page.getByRole("link", { name: "customer_churn" }).waitFor();
    expect(await t.page.getByText("export from CRM").isVisible()).toBe(true);
    // The session is an HttpOnly cookie: the page's script cannot read it.
    const cookies = await t.page.context().cookies();
    const session = cookies.find((c) => c.name === "tt_session");
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Strict");
    expect(await t.page.evaluate("document.cookie")).not.toContain("tt_session");
    await t.screenshot("datasets");

    await t.page.getByRole("button", { name: "Sign out" }).click();
    await t.page.getByRole("button", { name: "Sign in" }).waitFor();
    // Reloading after sign-out stays signed out.
    await t.page.reload();
    await t.page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("refuses a wrong key and says what to do", async () => {
    const t = await browser.newPage();
    await t.page.goto(server.baseUrl);
    await t.page.getByPlaceholder("tt_…").fill("tt_not_a_key");
    await t.page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => t.page.getByRole("alert").textContent()).toMatch(/not valid/);
    await t.screenshot("sign-in-refused");
    await t.close();
  });

  it("ends the session when its key is revoked", async () => {
    const keys = server.client(ApiKeyService);
    const { secret, key } = await keys.createApiKey({ name: "browser" });
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, secret, "/datasets");
    await t.page.getByRole("link", { name: "customer_churn" }).waitFor();
    await keys.revokeApiKey({ id: key?.id ?? "" });
    // The next call answers UNAUTHENTICATED, and the page goes back to sign-in.
    await t.page.reload();
    await t.page.getByRole("button", { name: "Sign in" }).waitFor();
    await t.close();
  });
});
