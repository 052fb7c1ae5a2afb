/**
 * SCIM 2.0 provisioning on the API's port, under /scim/v2. Identity providers
 * authenticate with an API key of scope SCIM (or a full key) of an owner of
 * the organisation they provision; every write is in the audit log.
 */
import { randomUUID } from "node:crypto";
import { PermissionDeniedError } from "../../services/errors.js";
import type { AuditLog, Authenticator, Principal, UserDirectory } from "../../services/identity/index.js";
import { bearerKey } from "../interceptors/auth.js";
import { HttpError, readJsonBody, type Request, type Response } from "../json-http.js";
import { errorBody, send } from "./http.js";
import { scimRoutes } from "./routes.js";

export const SCIM_PREFIX = "/scim/v2";
/** Bodies larger than this are refused (413): a group of 10,000 members fits. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const HOST = /^[A-Za-z0-9.:[\]-]{1,255}$/;
const NOT_JSON = new HttpError(400, "the request body is not JSON", "invalidSyntax");

export interface ScimDeps {
  authenticator: Pick<Authenticator, "authenticate">;
  users: UserDirectory;
  audit: Pick<AuditLog, "record">;
}

const OUTCOMES: Record<number, string> = { 400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied", 404: "not_found", 409: "already_exists", 413: "resource_exhausted", 429: "resource_exhausted", 501: "unimplemented", 503: "unavailable" };

export function createScimHandler(deps: ScimDeps) {
  const route = scimRoutes(deps.users);

  function mayProvision(p: Principal): void {
    if (!p.orgId || (p.keyScope !== "scim" && p.keyScope !== "all") || p.orgRole !== "owner") {
      throw new PermissionDeniedError("SCIM needs an API key of scope SCIM (or all) of an owner of the organisation");
    }
  }

  /** Serves one request whose path starts with /scim/v2. */
  return async function handle(req: Request, res: Response, source: string): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? "/", "http://scim.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    const segments = url.pathname.slice(SCIM_PREFIX.length).split("/").filter(Boolean).map(decodeSegment);
    const host = String(req.headers.host ?? req.headers[":authority"] ?? "");
    const base = `${HOST.test(host) ? `http://${host}` : ""}${SCIM_PREFIX}`;
    let principal: Principal | undefined;
    let answer: { status: number; body?: unknown; resource?: string };
    try {
      if (segments.includes(undefined)) throw new HttpError(400, "the path is not valid percent-encoded UTF-8", "invalidSyntax");
      principal = await deps.authenticator.authenticate(bearerKey(String(req.headers.authorization ?? "")), source);
      mayProvision(principal);
      answer = await route({ method, segments: segments as string[], query: url.searchParams, body: () => readJsonBody(req, { maxBytes: MAX_BODY_BYTES, gzip: false, notJson: NOT_JSON }), orgId: principal.orgId, base });
    } catch (error) {
      answer = errorBody(error, requestId);
    }
    // Written before the answer, as for gRPC calls: no write goes unrecorded.
    // Searches (POST …/.search) read.
    if (principal && method !== "GET" && segments.at(-1) !== ".search") {
      const call = {
        method: `SCIM ${method} /${segments[0] ?? ""}`,
        resource: answer.resource ?? (segments[1] ? `${segments[0] === "Groups" ? "group" : "user"}/${segments[1]}` : ""),
        source,
        outcome: answer.status < 300 ? "ok" : (OUTCOMES[answer.status] ?? "internal"),
        requestId,
      };
      await deps.audit.record(principal, call).catch((error: unknown) => {
        // Unrecorded, the write must not look like a success.
        answer = errorBody(error, requestId);
      });
    }
    const headers: Record<string, string> = { "x-request-id": requestId };
    if (answer.status === 401) headers["www-authenticate"] = 'Bearer realm="traintrack"';
    send(res, answer.status, answer.body, headers);
  };
}

/** A path segment decoded; undefined when it is not valid percent-encoded UTF-8 (decodeURIComponent would throw). */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
