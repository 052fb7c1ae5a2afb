/**
 * The web UI's sign-in, on both backends: an API key exchanged for an
 * HttpOnly SameSite=Strict session cookie, RPCs over the Connect protocol
 * authenticated by the cookie only with the session's CSRF token, sign-out,
 * and a session that ends the moment its key stops working (revoked, its user
 * deactivated), when it expires, or never starts with a bad key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccessService } from "../../gen/traintrack/v1/access_pb.js";
import { ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { AuditService } from "../../gen/traintrack/v1/audit_pb.js";
import { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

const HOUR = 3600_000;

describe.each(backends())("web UI sessions ($name)", (backend) => {
  let server: TestServer;
  // The server's clock, moved on to expire sessions.
  let clockOffsetMs = 0;
  beforeAll(async () => {
    if (!backend.available) return;
    server = await startTestServer(backend.name, {
      env: { TRAINTRACK_AUTH_FAILURE_BURST: "5", TRAINTRACK_AUTH_FAILURE_REFILL_MS: "3600000" },
      overrides: { now: () => new Date(Date.now() + clockOffsetMs) },
    });
  });
  afterAll(async () => server?.close());

  const url = (path: string) => `${server.baseUrl}${path}`;
  const signIn = (apiKey: string) => fetch(url("/api/v1/session"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ apiKey }) });

  /** Signs in with `apiKey`: the cookie to send back and the CSRF token. */
  async function session(apiKey: string): Promise<{ cookie: string; csrf: string; body: Record<string, string> }> {
    const res = await signIn(apiKey);
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("set-cookie") ?? "";
    const body = (await res.json()) as Record<string, string>;
    return { cookie: setCookie.split(";")[0] ?? "", csrf: body.csrfToken ?? "", body };
  }

  /** A Connect-protocol unary call as a browser makes it, with only the given headers. */
  const rpc = (method: string, headers: Record<string, string>, body: unknown = {}) =>
    fetch(url(`/traintrack.v1.${method}`), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const whoAmI = (headers: Record<string, string>) => rpc("AccessService/WhoAmI", headers);
  const getSession = (cookie: string) => fetch(url("/api/v1/session"), { headers: { cookie } });
  /** What GET /api/v1/session says: signed out is a 200 answer, not an error. */
  const signedIn = async (cookie: string) => {
    const res = await getSession(cookie);
    expect(res.status).toBe(200);
    return ((await res.json()) as { signedIn: boolean }).signedIn;
  };

  /** A user of the first organisation with a key of their own. */
  async function member() {
    const user = (await server.client(UserService).createUser({ userName: `s-${uniqueSuffix()}` })).user;
    const key = await server.client(ApiKeyService).createApiKey({ name: "ui", userId: user?.id });
    return { userId: user?.id ?? "", keyId: key.key?.id ?? "", secret: key.secret };
  }

  describe.skipIf(!backend.available)("", () => {
    it("signs in with an API key: an HttpOnly SameSite=Strict cookie, the session's CSRF token, and GET tells the UI who it is", async () => {
      const res = await signIn(server.apiKey);
      expect(res.status).toBe(200);
      const cookie = res.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/^tt_session=[A-Za-z0-9_-]{43}; /);
      expect(cookie).toContain("HttpOnly");
      expect(cookie).toContain("SameSite=Strict");
      expect(cookie).toContain("Path=/");
      expect(cookie).toContain(`Max-Age=${7 * 24 * 3600}`);
      expect(cookie).not.toContain("Secure");
      expect(res.headers.get("cache-control")).toBe("no-store");
      const body = (await res.json()) as Record<string, string>;
      const me = await server.client(AccessService).whoAmI({});
      expect(body).toEqual({ signedIn: true, csrfToken: expect.stringMatching(/^.{43}$/), orgId: me.organization?.id, userId: me.user?.id, expiresAt: expect.any(String) });
      expect(Date.parse(body.expiresAt ?? "") - Date.now()).toBeGreaterThan(11 * HOUR);

      const again = await getSession(cookie.split(";")[0] ?? "");
      expect(again.status).toBe(200);
      expect(((await again.json()) as Record<string, string>).csrfToken).toBe(body.csrfToken);
      const none = await fetch(url("/api/v1/session"));
      expect(none.status).toBe(200);
      expect(await none.json()).toEqual({ signedIn: false, reason: expect.stringMatching(/sign in/) });
    });

    it("a call with the cookie works with its CSRF token and is refused without it or with another", async () => {
      const { cookie, csrf, body } = await session(server.apiKey);
      const ok = await whoAmI({ cookie, "x-csrf-token": csrf });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { user: { id: string } }).user.id).toBe(body.userId);

      const attempts: Record<string, string>[] = [{ cookie }, { cookie, "x-csrf-token": `${csrf.slice(1)}x` }, { cookie, "x-csrf-token": "" }];
      for (const headers of attempts) {
        const refused = await whoAmI(headers);
        expect(refused.status).toBe(403);
        expect(((await refused.json()) as { code: string; message: string })).toEqual({ code: "permission_denied", message: expect.stringContaining("x-csrf-token") });
      }
      // Another session's CSRF token is not this one's.
      const other = await session(server.apiKey);
      expect((await whoAmI({ cookie, "x-csrf-token": other.csrf })).status).toBe(403);
    });

    it("an authorization header wins: with a bad key the call fails, whatever the cookie", async () => {
      const { cookie, csrf } = await session(server.apiKey);
      const res = await whoAmI({ cookie, "x-csrf-token": csrf, authorization: "Bearer tt_not_a_key" });
      expect(res.status).toBe(401);
      expect((await whoAmI({ cookie, "x-csrf-token": csrf, authorization: "Basic abc" })).status).toBe(401);
    });

    it("signs out: the session is gone and the cookie cleared; signing out needs the CSRF token", async () => {
      const { cookie, csrf } = await session(server.apiKey);
      expect((await fetch(url("/api/v1/session"), { method: "DELETE", headers: { cookie } })).status).toBe(403);
      const out = await fetch(url("/api/v1/session"), { method: "DELETE", headers: { cookie, "x-csrf-token": csrf } });
      expect(out.status).toBe(204);
      expect(out.headers.get("set-cookie")).toMatch(/^tt_session=; .*Max-Age=0/);
      expect(await signedIn(cookie)).toBe(false);
      expect((await whoAmI({ cookie, "x-csrf-token": csrf })).status).toBe(401);
      const events = await server.client(AuditService).listAuditEvents({ pageSize: 1000 });
      const methods = events.events.map((e) => e.method);
      expect(methods).toContain("Session/SignIn");
      expect(methods).toContain("Session/SignOut");
    });

    it("revoking the key ends its sessions at once", async () => {
      const m = await member();
      const { cookie, csrf } = await session(m.secret);
      expect((await whoAmI({ cookie, "x-csrf-token": csrf })).status).toBe(200);
      await server.client(ApiKeyService).revokeApiKey({ id: m.keyId });
      expect((await whoAmI({ cookie, "x-csrf-token": csrf })).status).toBe(401);
      expect(await signedIn(cookie)).toBe(false);
    });

    it("deactivating the user ends their sessions at once", async () => {
      const m = await member();
      const { cookie, csrf } = await session(m.secret);
      expect(await signedIn(cookie)).toBe(true);
      await server.client(UserService).deactivateUser({ id: m.userId });
      expect(await signedIn(cookie)).toBe(false);
      expect((await whoAmI({ cookie, "x-csrf-token": csrf })).status).toBe(401);
    });

    it("a session ends when idle for 12 hours, and after 7 days however used", async () => {
      const idle = await session(server.apiKey);
      clockOffsetMs += 11 * HOUR;
      expect(await signedIn(idle.cookie)).toBe(true);
      // That use moved the idle clock on: 11 more hours are fine, 13 without a use are not.
      clockOffsetMs += 11 * HOUR;
      expect((await whoAmI({ cookie: idle.cookie, "x-csrf-token": idle.csrf })).status).toBe(200);
      clockOffsetMs += 13 * HOUR;
      expect((await whoAmI({ cookie: idle.cookie, "x-csrf-token": idle.csrf })).status).toBe(401);

      const busy = await session(server.apiKey);
      // Used every 11 hours: alive for 165 hours, ended at 176 (past 168).
      for (let i = 0; i < 15; i++) {
        clockOffsetMs += 11 * HOUR;
        expect(await signedIn(busy.cookie)).toBe(true);
      }
      clockOffsetMs += 11 * HOUR;
      expect(await signedIn(busy.cookie)).toBe(false);
      clockOffsetMs = 0;
    });

    it("a bad key gets 401 saying what to do, and a client sending bad keys is stopped", async () => {
      const bad = await signIn("tt_not_a_key");
      expect(bad.status).toBe(401);
      expect(bad.headers.get("set-cookie")).toBeNull();
      expect(((await bad.json()) as { error: string }).error).toMatch(/API key is not valid/);
      expect((await fetch(url("/api/v1/session"), { method: "POST", body: "{}" })).status).toBe(400);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await signIn(`tt_wrong_${i}`)).status);
      expect(statuses).toContain(429);
      // A key that works still does.
      expect((await signIn(server.apiKey)).status).toBe(200);
    });
  });
});
