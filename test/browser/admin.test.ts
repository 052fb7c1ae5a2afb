/**
 * Administration in a real browser: an owner creates a user, a group with
 * that user in it, and a key whose secret is shown once (gone once the
 * dialog is closed), revokes the key (it stops working at once), and finds
 * those actions in the audit log; a viewer sees no Admin link and no usable
 * write button on any administration page.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { Role } from "../../gen/traintrack/v1/role_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import type { TestServer } from "../support/server.js";
import { launchBrowser, signIn, startUiServer, type TestBrowser } from "./support/browser.js";
import { everyWriteSettled } from "./support/writes.js";

describe("administration", () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    server = await startUiServer("postgres+minio");
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("an owner creates a user and a group, a key shown once, revokes it, and sees it all in the audit log", async () => {
    const t = await browser.newPage();
    t.page.on("dialog", (d) => void d.accept());
    await signIn(t.page, server.baseUrl, server.apiKey, "/");
    await t.page.locator(".topbar nav").getByRole("link", { name: "Admin" }).click();
    await t.page.waitForURL(/\/admin\/users$/);

    // A user.
    await everyWriteSettled(t.page);
    await t.page.getByLabel("User name").fill("alice");
    await t.page.getByLabel("Display name").fill("Alice Analyst");
    await t.page.getByLabel("Role on the organisation").selectOption({ label: "editor" });
    await t.page.getByRole("button", { name: "Create user" }).click();
    await t.page.locator('tr[data-user="alice"]').waitFor();
    expect(await t.page.locator('tr[data-user="alice"]').textContent()).toContain("Alice Analyst");
    const alice = (await server.client(UserService).getUser({ userName: "alice" })).user?.id ?? "";
    expect(alice).toMatch(/^u_/);
    await t.screenshot("admin-users");

    // A group holding her.
    await t.page.getByRole("link", { name: "Groups" }).click();
    await everyWriteSettled(t.page);
    await t.page.getByLabel("Group name").fill("ml-team");
    await t.page.getByRole("button", { name: "Create group" }).click();
    await t.page.locator('tr[data-group="ml-team"]').getByRole("link", { name: "ml-team" }).click();
    await t.page.getByLabel("Member to add").fill("alice");
    await t.page.getByRole("button", { name: "Add member" }).click();
    await t.page.locator('tr[data-member="alice"]').waitFor();
    await expect.poll(() => t.page.locator('tr[data-group="ml-team"] td.num').textContent()).toBe("1");
    await t.screenshot("admin-groups");

    // A key for her: the secret shows once, works, and is gone once the dialog is closed.
    await t.page.getByRole("link", { name: "API keys" }).click();
    await everyWriteSettled(t.page);
    await t.page.getByLabel("Key name").fill("alice-ci");
    await t.page.getByLabel("Key for user").fill("alice");
    await t.page.getByRole("button", { name: "Create key" }).click();
    const dialog = t.page.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("shown only this once");
    const secret = await dialog.getByLabel("Secret").inputValue();
    expect(secret.length).toBeGreaterThan(20);
    expect(await dialog.getByRole("button", { name: "Copy" }).isVisible()).toBe(true);
    await t.screenshot("admin-key-secret");
    const whoAmI = await server.client(AccessService, "grpc", secret).whoAmI({});
    expect(whoAmI.user?.userName).toBe("alice");
    await dialog.getByRole("button", { name: /close/ }).click();
    await dialog.waitFor({ state: "detached" });
    await t.page.locator('tr[data-key="alice-ci"]').waitFor();
    expect(await t.page.locator("body").innerHTML()).not.toContain(secret);
    const keyId = (await t.page.locator('tr[data-key="alice-ci"]').getAttribute("data-key-id")) ?? "";

    // Revoked from the page: the key stops working at once.
    await t.page.locator('tr[data-key="alice-ci"]').getByRole("button", { name: "Revoke" }).click();
    await t.page.getByRole("status").filter({ hasText: "Revoked" }).waitFor();
    await t.page.locator('tr[data-key="alice-ci"]').waitFor({ state: "detached" });
    const refused = await server
      .client(AccessService, "grpc", secret)
      .whoAmI({})
      .then(() => undefined, (e: unknown) => ConnectError.from(e).code);
    expect(refused).toBe(Code.Unauthenticated);
    await t.page.getByLabel("Show revoked keys").check();
    await t.page.locator('tr[data-key="alice-ci"]').waitFor();
    expect(await t.page.locator('tr[data-key="alice-ci"]').textContent()).toContain("revoked");
    await t.screenshot("admin-keys");

    // The audit log holds the key's creation and revocation, and the user's creation.
    await t.page.getByRole("link", { name: "Audit log" }).click();
    await t.page.getByLabel("Filter by resource").fill(`key/${keyId}`);
    await t.page.locator('tr[data-method$="/RevokeApiKey"]').waitFor();
    expect(await t.page.locator("tr[data-method]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-method")))).toEqual([
      "traintrack.v1.ApiKeyService/RevokeApiKey",
      "traintrack.v1.ApiKeyService/CreateApiKey",
    ]);
    expect(t.page.url()).toContain(`resource=key%2F${keyId}`);
    await t.screenshot("admin-audit");
    await t.page.getByLabel("Filter by resource").fill("user/");
    await t.page.locator('tr[data-method$="/CreateUser"]').first().waitFor();
    expect(await t.page.locator('tr[data-method$="/CreateUser"]').first().textContent()).toContain("ok");
    expect(t.errors).toEqual([]);
    await t.close();
  });

  it("a viewer sees no Admin link and no usable write button on the administration pages", async () => {
    const users = server.client(UserService);
    const userId = (await users.createUser({ userName: "victor", displayName: "Victor Viewer", role: Role.VIEWER })).user?.id ?? "";
    const { secret } = await server.client(ApiKeyService).createApiKey({ name: "victor's key", userId });
    const t = await browser.newPage();
    await signIn(t.page, server.baseUrl, secret, "/");
    await t.page.locator(".topbar .who").filter({ hasText: "Victor Viewer" }).waitFor();
    expect(await t.page.locator(".topbar nav").getByRole("link", { name: "Admin" }).count()).toBe(0);

    for (const page of ["users", "groups", "grants", "keys"]) {
      await t.page.goto(`${server.baseUrl}/admin/${page}`);
      const writes = await everyWriteSettled(t.page);
      expect(writes.length).toBeGreaterThan(0);
      for (const w of writes) {
        expect(w.disabled, `${page}: ${w.text}`).toBe(true);
        expect(w.title).toContain("does not allow");
      }
      await t.screenshot(`admin-${page}-as-viewer`);
    }
    // The viewer's own key is listed, its revoke greyed out like the rest.
    expect(await t.page.locator(`tr[data-key="victor's key"]`).count()).toBe(1);
    await t.page.goto(`${server.baseUrl}/admin/audit`);
    await t.page.getByText("Only owners read the audit log.").waitFor();
    expect(await t.page.locator("button[data-write]:enabled").count()).toBe(0);
    expect(t.errors).toEqual([]);
    await t.close();
  });
});
