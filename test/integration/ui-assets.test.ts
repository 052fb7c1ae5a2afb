/**
 * The web UI's files on the API's port: a build's files with their types and
 * caching, compressed when the browser accepts it, index.html for the app's
 * own page paths, nothing outside the build whatever the path says, the API's
 * routes untouched, and a 503 that says how to build the UI when it is absent.
 */
import { request } from "node:http";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

const INDEX = `<!doctype html><html><head><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="root"></div></body></html>`;
const SCRIPT = `export const app = ${JSON.stringify("x".repeat(4000))};\n`.repeat(4);

/** A GET (or other method) with the path sent exactly as written: fetch would normalise "..". */
function raw(baseUrl: string, rawPath: string, opts: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const url = new URL(baseUrl);
    const req = request({ host: url.hostname, port: url.port, path: rawPath, method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the web UI's files", () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "traintrack-ui-"));
    await mkdir(path.join(dir, "ui", "assets"), { recursive: true });
    await writeFile(path.join(dir, "ui", "index.html"), INDEX);
    await writeFile(path.join(dir, "ui", "assets", "app-abc123.js"), SCRIPT);
    await writeFile(path.join(dir, "ui", "favicon.svg"), "<svg/>");
    await writeFile(path.join(dir, "secret.txt"), "outside the build");
    server = await startTestServer("embedded", { env: { TRAINTRACK_UI_DIR: path.join(dir, "ui") } });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves index.html at / revalidated on each load, with the security headers", async () => {
    const res = await fetch(`${server.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("worker-src 'self' blob:");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await res.text()).toBe(INDEX);
    // Unchanged since: 304 without a body.
    const again = await raw(server.baseUrl, "/", { headers: { "if-none-match": res.headers.get("etag") ?? "" } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it("serves content-hashed assets cached for a year, gzip or brotli when accepted", async () => {
    const plain = await raw(server.baseUrl, "/assets/app-abc123.js");
    expect(plain.status).toBe(200);
    expect(plain.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(plain.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString()).toBe(SCRIPT);

    const gz = await raw(server.baseUrl, "/assets/app-abc123.js", { headers: { "accept-encoding": "gzip" } });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gz.headers.vary).toBe("accept-encoding");
    expect(gz.body.length).toBeLessThan(SCRIPT.length / 10);
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);
    const br = await fetch(`${server.baseUrl}/assets/app-abc123.js`, { headers: { "accept-encoding": "gzip, br" } });
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(await br.text()).toBe(SCRIPT);
    expect((await raw(server.baseUrl, "/assets/app-abc123.js", { headers: { "accept-encoding": "gzip;q=0" } })).headers["content-encoding"]).toBeUndefined();
    expect((await raw(server.baseUrl, "/favicon.svg")).headers["content-type"]).toBe("image/svg+xml");
  });

  it("answers the app's own page paths with index.html, and missing files with 404", async () => {
    for (const page of ["/runs/r_abc", "/datasets/churn/versions/3", "/models?sort=name"]) {
      const res = await raw(server.baseUrl, page);
      expect([page, res.status]).toEqual([page, 200]);
      expect(res.body.toString()).toBe(INDEX);
      expect(res.headers["cache-control"]).toBe("no-cache");
    }
    // A browser navigating to a page whose last part has a dot still gets the app.
    expect((await raw(server.baseUrl, "/datasets/data.csv", { headers: { accept: "text/html,*/*" } })).body.toString()).toBe(INDEX);
    expect((await raw(server.baseUrl, "/assets/app-missing.js")).status).toBe(404);
    expect((await raw(server.baseUrl, "/traintrack.v1.NoSuchService/Method")).status).toBe(404);
    expect((await raw(server.baseUrl, "/api/v1/nothing")).status).toBe(404);
  });

  it("serves nothing outside the build, whatever the path says", async () => {
    for (const attempt of ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e%2f%2e%2e%2fsecret.txt", "/..%5csecret.txt", "/%00", "/%E0%A4%A"]) {
      const res = await raw(server.baseUrl, attempt, { headers: { accept: "text/html" } });
      expect(res.body.toString(), attempt).not.toContain("outside the build");
      expect([200, 404], attempt).toContain(res.status);
    }
  });

  it("answers HEAD with the headers only; other methods on unknown paths stay 404", async () => {
    const head = await raw(server.baseUrl, "/assets/app-abc123.js", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(SCRIPT.length));
    expect(head.body.length).toBe(0);
    for (const method of ["POST", "PUT", "DELETE"]) expect((await raw(server.baseUrl, "/runs/r_abc", { method })).status).toBe(404);
    expect((await raw(server.baseUrl, "/", { method: "POST" })).status).toBe(404);
  });

  it("leaves the API's routes to the API", async () => {
    expect((await raw(server.baseUrl, "/metrics")).body.toString()).toContain("# HELP");
    // The session route answers (signed out: JSON, not the app's index.html).
    const session = await raw(server.baseUrl, "/api/v1/session");
    expect(session.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(session.body.toString())).toMatchObject({ signedIn: false });
  });
});

describe("without a web UI build", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded", { env: { TRAINTRACK_UI_DIR: path.join(os.tmpdir(), "traintrack-no-ui-here") } });
  });
  afterAll(async () => server?.close());

  it("answers / with 503 saying how to build it, and the API still works", async () => {
    const res = await fetch(`${server.baseUrl}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("the web UI is not built: run `npm run build`");
    expect((await fetch(`${server.baseUrl}/runs/r_1`)).status).toBe(503);
    expect((await fetch(`${server.baseUrl}/`, { method: "POST" })).status).toBe(404);
    expect((await raw(server.baseUrl, "/metrics")).status).toBe(200);
  });
});
