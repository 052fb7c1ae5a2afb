/**
 * The web UI's sign-in at /api/v1/session, beside Connect on the API's port:
 * POST exchanges an API key for a session cookie, GET tells the UI whether it
 * is signed in (and its CSRF token), DELETE signs out. Being signed out is an
 * answer, not an error: GET says `{"signedIn": false}` with 200, so a page
 * that opens signed out logs no failed request. Errors are JSON
 * `{"error": "..."}` saying what to do. The key is never logged.
 */
import { randomUUID } from "node:crypto";
import { InvalidInputError, UnauthenticatedError } from "../../services/errors.js";
import type { SessionService, SessionView } from "../../services/identity/index.js";
import { HttpError, headerOf, readJsonBody, type Request, type Response, sendJson, statusOf } from "../json-http.js";
import { CSRF_HEADER, clearedSessionCookie, sessionCookie, sessionTokenOf } from "./cookie.js";

export const SESSION_PATH = "/api/v1/session";
/** An API key and a little JSON around it. */
const MAX_BODY_BYTES = 4096;
const NOT_JSON = new HttpError(400, 'the request body is not JSON: send {"apiKey": "<your API key>"}');

export interface SessionRouteDeps {
  sessions: SessionService;
  /** Set-Cookie gets `Secure` (TRAINTRACK_SESSION_SECURE_COOKIE). */
  secureCookie: boolean;
  /** The cookie's Max-Age: the session's absolute cap (the server enforces idleness itself). */
  maxAgeSeconds: number;
  /** Errors answered 500: the cause, which the client never sees. */
  logInternal: (error: unknown, requestId: string) => void;
}

type SignedOut = { signedIn: false; reason: string };
const NOT_SIGNED_IN: SignedOut = { signedIn: false, reason: "not signed in: sign in with an API key (POST /api/v1/session)" };

const bodyOf = (view: SessionView) => ({ signedIn: true as const, csrfToken: view.csrfToken, orgId: view.orgId, userId: view.userId, expiresAt: view.expiresAt.toISOString() });

function apiKeyOf(body: unknown): string {
  const apiKey = (body as { apiKey?: unknown } | null)?.apiKey;
  if (typeof apiKey !== "string" || apiKey === "") throw new InvalidInputError("apiKey", 'send {"apiKey": "<your API key>"}: an owner creates keys under Administration → API keys');
  return apiKey;
}

export function createSessionRoute(deps: SessionRouteDeps) {
  const { sessions } = deps;

  /** GET's answer for a cookie's token: the session, or why there is none. */
  async function signedInAs(token: string): Promise<ReturnType<typeof bodyOf> | SignedOut> {
    try {
      return bodyOf((await sessions.resolve(token)).view);
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      return { signedIn: false, reason: error.message } satisfies SignedOut;
    }
  }

  /** Serves one request to SESSION_PATH. */
  return async function handle(req: Request, res: Response, source: string): Promise<void> {
    const requestId = randomUUID();
    const method = (req.method ?? "GET").toUpperCase();
    // Session answers carry tokens: no cache may keep them.
    const headers: Record<string, string> = { "x-request-id": requestId, "cache-control": "no-store" };
    let status = 200;
    let body: unknown;
    try {
      if (method === "POST") {
        const { token, view } = await sessions.signIn(apiKeyOf(await readJsonBody(req, { maxBytes: MAX_BODY_BYTES, gzip: false, notJson: NOT_JSON })), { source, requestId });
        headers["set-cookie"] = sessionCookie(token, deps.maxAgeSeconds, deps.secureCookie);
        body = bodyOf(view);
      } else if (method === "GET") {
        const token = sessionTokenOf(req.headers.cookie);
        const answer = token ? await signedInAs(token) : NOT_SIGNED_IN;
        // A cookie that names no live session is dropped, so the browser stops sending it.
        if (token && !answer.signedIn) headers["set-cookie"] = clearedSessionCookie(deps.secureCookie);
        body = answer;
      } else if (method === "DELETE") {
        const session = await sessions.resolve(sessionTokenOf(req.headers.cookie) ?? "");
        if (!sessions.csrfMatches(session.view, headerOf(req, CSRF_HEADER))) {
          throw new HttpError(403, `signing out needs the header ${CSRF_HEADER} with the csrfToken of GET ${SESSION_PATH}`);
        }
        await sessions.signOut(session, { source, requestId });
        headers["set-cookie"] = clearedSessionCookie(deps.secureCookie);
        status = 204;
      } else {
        headers.allow = "GET, POST, DELETE";
        throw new HttpError(405, `${SESSION_PATH} takes POST (sign in), GET (the session) and DELETE (sign out)`);
      }
    } catch (error) {
      const answer = statusOf(error, requestId);
      if (answer.status === 500) deps.logInternal(error, requestId);
      // A cookie that names no live session is dropped, so the browser stops sending it.
      if (error instanceof UnauthenticatedError && method !== "POST") headers["set-cookie"] = clearedSessionCookie(deps.secureCookie);
      status = answer.status;
      body = { error: answer.message };
    }
    sendJson(res, status, body, headers);
  };
}
