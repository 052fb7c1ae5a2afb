/**
 * A raw-HTTP SCIM client for tests: requests as identity providers send
 * them (fetch, JSON bodies, a bearer token), answers as they arrive.
 */
import { ApiKeyScope, ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import type { TestServer } from "./server.js";

export const USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error";
export const LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

export interface ScimReply {
  status: number;
  contentType: string;
  // biome-ignore lint/suspicious/noExplicitAny: SCIM bodies are checked field by field in the tests.
  body: any;
}

export interface ScimClient {
  request(method: string, path: string, body?: unknown, init?: { headers?: Record<string, string>; rawBody?: string | Uint8Array }): Promise<ScimReply>;
  get(path: string): Promise<ScimReply>;
  post(path: string, body: unknown): Promise<ScimReply>;
  put(path: string, body: unknown): Promise<ScimReply>;
  patch(path: string, ...operations: unknown[]): Promise<ScimReply>;
  delete(path: string): Promise<ScimReply>;
}

/** A SCIM client of `server` sending `token` (none: no authorization header). */
export function scimClient(server: TestServer, token: string | undefined): ScimClient {
  async function request(method: string, path: string, body?: unknown, init: { headers?: Record<string, string>; rawBody?: string | Uint8Array } = {}): Promise<ScimReply> {
    const headers: Record<string, string> = { accept: "application/scim+json", ...init.headers };
    if (token) headers.authorization = `Bearer ${token}`;
    const payload = init.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined && !headers["content-type"]) headers["content-type"] = "application/scim+json";
    const res = await fetch(`${server.baseUrl}/scim/v2${path}`, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get("content-type") ?? "", body: text ? JSON.parse(text) : undefined };
  }
  return {
    request,
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),
    put: (path, body) => request("PUT", path, body),
    patch: (path, ...operations) => request("PATCH", path, { schemas: [PATCH_URN], Operations: operations }),
    delete: (path) => request("DELETE", path),
  };
}

/** A new API key of `scope` for `userId` (empty: the caller's own), made with `ownerKey` (default: the bootstrap key). */
export async function createKey(server: TestServer, scope: ApiKeyScope, opts: { userId?: string; ownerKey?: string } = {}): Promise<string> {
  const keys = server.client(ApiKeyService, "grpc", opts.ownerKey ?? server.apiKey);
  const created = await keys.createApiKey({ name: `test-${scope}`, scope, userId: opts.userId ?? "" });
  return created.secret;
}

export const scimKey = (server: TestServer, ownerKey?: string) => createKey(server, ApiKeyScope.SCIM, { ownerKey });

/** `filter` URL-encoded as a query parameter. */
export const filterQuery = (filter: string, more = "") => `?filter=${encodeURIComponent(filter)}${more}`;
