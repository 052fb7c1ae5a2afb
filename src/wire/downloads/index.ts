/**
 * Downloads over plain HTTP, beside Connect on the API's port: a browser
 * cannot save a gRPC stream through a link, so the UI's download links are
 *   GET /api/v1/datasets/<name>/versions/<version>/artefacts/<path>
 *   GET /api/v1/runs/<run id>/artefacts/<path>
 *   GET /api/v1/models/<name>/versions/<number>/files/<path> (or …/aliases/<alias>/files/<path>)
 * which send the artefact as a file: Content-Disposition with its name,
 * Content-Length, a strong ETag (its sha256, so If-None-Match gives 304) and
 * single byte ranges (Range, If-Range), for resumed downloads and for
 * readers of a file's footer. GET and HEAD only, nothing is changed: the
 * session cookie authenticates without a CSRF token (SameSite=Strict keeps
 * other sites from sending it); an `authorization: Bearer <key>` header, when
 * present, is used instead. Allowed and audited exactly as the Download…
 * RPC it stands for (sources.ts).
 */
import { randomUUID } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { ArtefactView } from "../../services/artefacts.js";
import type { AuditLog, Authenticator, Principal, ScopeResolver, SessionService } from "../../services/identity/index.js";
import { authorize } from "../authorize.js";
import { callerOf } from "../interceptors/auth.js";
import { HttpError, headerOf, type Request, type Response, sendJson, statusOf } from "../json-http.js";
import { etagOf, fileHeaders, namesEtag, requestedSpan, type Span } from "./http-file.js";
import { DOWNLOAD_PREFIXES, type SourceDeps, sourceOf } from "./sources.js";

export { DOWNLOAD_PREFIXES } from "./sources.js";

/** Whether a request path is one of the download routes. */
export const isDownloadPath = (path: string): boolean => DOWNLOAD_PREFIXES.some((p) => path.startsWith(p));

export interface DownloadDeps extends SourceDeps {
  authenticator: Pick<Authenticator, "authenticate">;
  sessions: Pick<SessionService, "resolve" | "csrfMatches">;
  scopes: ScopeResolver;
  audit: Pick<AuditLog, "record">;
  /** Errors answered 500: the cause, which the client never sees. */
  logInternal: (error: unknown, requestId: string) => void;
}

const OUTCOMES: Record<number, string> = { 400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied", 404: "not_found", 416: "out_of_range", 503: "unavailable" };

export function createDownloadRoute(deps: DownloadDeps) {
  /** Serves one request under a download prefix. */
  return async function handle(req: Request, res: Response, source: string): Promise<void> {
    const requestId = randomUUID();
    const method = (req.method ?? "GET").toUpperCase();
    let principal: Principal | undefined;
    let audited: { method: string; resource: string } | undefined;
    try {
      if (method !== "GET" && method !== "HEAD") throw new HttpError(405, "downloads take GET (or HEAD)");
      const file = sourceOf(req.url?.split("?", 1)[0] ?? "", deps);
      const sent = { authorization: headerOf(req, "authorization") ?? null, cookie: headerOf(req, "cookie") ?? null, csrf: "not needed" as const };
      const caller = await callerOf(deps, sent, source);
      principal = caller;
      if (file.rule.audit) audited = { method: `HTTP GET ${file.method}`, resource: file.rule.audit(file.request) };
      await authorize(file.rule, file.request, caller, deps.scopes);
      // The description first (no bytes read): the range is checked against the size it gives.
      const { artefact } = await file.open(caller.orgId, { offset: 0, length: 0 });
      const span = chosenSpan(req, artefact);
      if (audited) await record(caller, audited, source, requestId, 200);
      const range = span === undefined ? { offset: 0 } : { offset: span.start, length: span.end - span.start + 1 };
      await send(req, res, method, artefact, span, requestId, () => file.open(caller.orgId, range));
    } catch (error) {
      if (res.headersSent) {
        // Mid-body (the store failed, or the object is short): all that is left is to cut the response.
        if (!(error instanceof Error && "code" in error && error.code === "ERR_STREAM_PREMATURE_CLOSE")) deps.logInternal(error, requestId);
        res.destroy();
        return;
      }
      const answer = error instanceof RangeNotSatisfiable ? { status: 416, message: error.message } : statusOf(error, requestId);
      if (answer.status === 500) deps.logInternal(error, requestId);
      if (principal && audited) await record(principal, audited, source, requestId, answer.status).catch(() => undefined);
      const headers: Record<string, string> = { "x-request-id": requestId, "cache-control": "no-store" };
      if (answer.status === 401) headers["www-authenticate"] = 'Bearer realm="traintrack"';
      if (answer.status === 405) headers.allow = "GET, HEAD";
      if (error instanceof RangeNotSatisfiable) headers["content-range"] = `bytes */${error.size}`;
      sendJson(res, answer.status, method === "HEAD" ? undefined : { error: answer.message }, headers);
    }
  };

  async function record(principal: Principal, call: { method: string; resource: string }, source: string, requestId: string, status: number) {
    await deps.audit.record(principal, { ...call, source, outcome: status < 300 ? "ok" : (OUTCOMES[status] ?? "internal"), requestId });
  }
}

class RangeNotSatisfiable extends Error {
  constructor(readonly size: number) {
    super(`the range asked for starts past the end of the file (${size} bytes)`);
  }
}

/** The span to send (undefined: all of it): Range, unless If-Range names another version of the bytes. */
function chosenSpan(req: Request, artefact: ArtefactView): Span | undefined {
  const range = headerOf(req, "range");
  if (!range) return undefined;
  const ifRange = headerOf(req, "if-range");
  // If-Range compares strongly, and a date there is never the ETag: the whole file, then.
  if (ifRange && ifRange.trim() !== etagOf(artefact.sha256)) return undefined;
  const span = requestedSpan(range, artefact.size);
  if (span === "unsatisfiable") throw new RangeNotSatisfiable(artefact.size);
  return span;
}

/** Writes the answer: 304 when the client holds these bytes, else 200 or 206 with the body. Returns the status. */
async function send(
  req: Request,
  res: Response,
  method: string,
  artefact: ArtefactView,
  span: Span | undefined,
  requestId: string,
  open: () => Promise<{ body: NodeJS.ReadableStream | undefined }>,
): Promise<number> {
  const headers: Record<string, string> = { ...fileHeaders(artefact), "x-request-id": requestId };
  if (namesEtag(headerOf(req, "if-none-match"), headers.etag as string)) {
    res.writeHead(304, headers);
    res.end();
    return 304;
  }
  const status = span ? 206 : 200;
  headers["content-length"] = String(span ? span.end - span.start + 1 : artefact.size);
  if (span) headers["content-range"] = `bytes ${span.start}-${span.end}/${artefact.size}`;
  if (method === "HEAD" || artefact.size === 0) {
    res.writeHead(status, headers);
    res.end();
    return status;
  }
  const { body } = await open();
  res.writeHead(status, headers);
  if (!body) {
    res.end();
    return status;
  }
  // pipeline closes the store's stream when the client leaves, and fails when the store does.
  await pipeline(body, res as NodeJS.WritableStream);
  return status;
}
