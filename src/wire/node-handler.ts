/**
 * The Node.js request handler: Connect's router, plus what connect-node's
 * `connectNodeAdapter` does not give an operator: one JSON log line and the
 * metrics of every RPC (method, code, duration, bytes each way, caller,
 * request id), GET /metrics, and a count of RPCs in flight so that shutdown
 * can wait for them. (The adapter also prints write failures with
 * console.error, which would break the one-JSON-object-per-line log.)
 */
import { randomUUID } from "node:crypto";
import type http from "node:http";
import type http2 from "node:http2";
import { performance } from "node:perf_hooks";
import { Code, type ConnectRouter, createConnectRouter, createContextValues, type Interceptor } from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { errorField, type Logger } from "../ops/logger.js";
import type { Metrics } from "../ops/metrics.js";
import { asksForCompression, optInCompressionMethods } from "./download-compression.js";
import { carriesRawChunks, RawChunkQueue, rawChunksKey, spliceRawChunks, WRITE_AHEAD_BYTES, writeAhead } from "./raw-chunks.js";
import { peerKey } from "./interceptors/auth.js";
import { isDownloadPath } from "./downloads/index.js";
import { OPENLINEAGE_PATH } from "./openlineage/index.js";
import { SCIM_PREFIX } from "./scim/index.js";
import { SESSION_PATH } from "./session/index.js";
import { codeName, type RpcRecord, rpcRecordKey } from "./rpc-record.js";
import { type BodyTap, isByteStream, outcomeOfResponse, tapped } from "./rpc-outcome.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

export interface NodeHandlerOptions {
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  readMaxBytes: number;
  writeMaxBytes: number;
  logger: Logger;
  metrics: Metrics;
  /** When set, GET /metrics needs `authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** SCIM provisioning under /scim/v2 (scim/index.ts). */
  scim?: HttpRoute;
  /** OpenLineage intake at POST /api/v1/lineage (openlineage/index.ts). */
  openLineage?: HttpRoute;
  /** The web UI's sign-in at /api/v1/session (session/index.ts). */
  session?: HttpRoute;
  /** The web UI's files and pages (ui/index.ts): GET and HEAD requests no other route took, outside /api/. */
  ui?: (req: Request, res: Response, path: string) => void;
  /** Artefacts as files, for the web UI's download links: GET /api/v1/datasets/…, /api/v1/runs/…, /api/v1/models/… (downloads/index.ts). */
  downloads?: HttpRoute;
}

/** A plain-HTTP route on the API's port that answers every request, errors included, itself. */
type HttpRoute = (req: Request, res: Response, source: string) => Promise<void>;

export interface NodeHandler {
  handle(req: Request, res: Response): void;
  /** RPCs being served now. */
  readonly inFlight: number;
  /**
   * Resolves when no RPC is in flight; with `includeHealth: false`, open health
   * Watch streams (which last as long as their client) do not count.
   */
  idle(opts: { includeHealth: boolean }): Promise<void>;
}

const HEALTH = "grpc.health.v1.Health";
/** Services whose calls are logged at debug: load balancers probe health every few seconds. */
const QUIET_SERVICES = new Set([HEALTH, "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);

export function createNodeHandler(opts: NodeHandlerOptions): NodeHandler {
  const { logger, metrics } = opts;
  const routerOptions = { interceptors: opts.interceptors, readMaxBytes: opts.readMaxBytes, writeMaxBytes: opts.writeMaxBytes };
  const router = createConnectRouter({ ...routerOptions, acceptCompression: [compressionGzip, compressionBrotli] });
  opts.routes(router);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
  // The same routes, never compressing responses: downloads go here unless their request asks (download-compression.ts).
  const plainRouter = createConnectRouter({ ...routerOptions, acceptCompression: [] });
  opts.routes(plainRouter);
  const optIn = new Set(optInCompressionMethods);
  const plainPaths = new Map(plainRouter.handlers.filter((h) => optIn.has(h.method)).map((h) => [h.requestPath, h]));
  let inFlight = 0;
  let inFlightHealth = 0;
  const idleWaiters = new Set<{ includeHealth: boolean; wake: () => void }>();
  const busy = (includeHealth: boolean) => (includeHealth ? inFlight : inFlight - inFlightHealth) > 0;

  function started(health: boolean): void {
    inFlight += 1;
    if (health) inFlightHealth += 1;
    metrics.rpcInFlight.inc();
  }

  function finished(health: boolean): void {
    inFlight -= 1;
    if (health) inFlightHealth -= 1;
    metrics.rpcInFlight.dec();
    for (const waiter of idleWaiters) {
      if (busy(waiter.includeHealth)) continue;
      idleWaiters.delete(waiter);
      waiter.wake();
    }
  }

  function handle(req: Request, res: Response): void {
    const path = req.url?.split("?", 2)[0] ?? "";
    const uHandler = paths.get(path);
    if (!uHandler) {
      if (path === "/metrics" && req.method === "GET") return void serveMetrics(req, res);
      if (opts.scim && (path === SCIM_PREFIX || path.startsWith(`${SCIM_PREFIX}/`))) return void serveHttpRoute("SCIM", opts.scim, req, res);
      if (opts.openLineage && path === OPENLINEAGE_PATH) return void serveHttpRoute("OpenLineage", opts.openLineage, req, res);
      if (opts.session && path === SESSION_PATH) return void serveHttpRoute("Session", opts.session, req, res);
      if (opts.downloads && isDownloadPath(path)) return void serveHttpRoute("Download", opts.downloads, req, res);
      if (opts.ui && (req.method === "GET" || req.method === "HEAD") && path !== "/api" && !path.startsWith("/api/")) return opts.ui(req, res, path);
      res.writeHead(404);
      res.end();
      return;
    }
    const startedAt = performance.now();
    const record: RpcRecord = { requestId: randomUUID(), procedure: `${uHandler.service.typeName}/${uHandler.method.name}` };
    const bytes = { received: 0, sent: 0 };
    // What a response the interceptors never saw says about its code (see outcomeOfResponse).
    const tap: BodyTap = { head: [], headBytes: 0, last: undefined };
    const health = uHandler.service.typeName === HEALTH;
    started(health);
    const values = createContextValues().set(rpcRecordKey, record).set(peerKey, req.socket?.remoteAddress ?? "");
    const uReq = universalRequestFromNodeRequest(req, res, undefined, values);
    const body = uReq.body;
    if (isByteStream(body)) uReq.body = tapped(body, (n) => (bytes.received += n));
    let response: UniversalServerResponse | undefined;
    // Done when the handler has settled and the response is closed (sent, or the
    // client gone). Not when universalResponseToNodeResponse resolves: it waits
    // for an "end" event that Node's responses never emit.
    let pending = 2;
    const done = () => {
      if (--pending > 0) return;
      finished(health);
      if (!res.writableEnded && (record.code === undefined || record.code === "ok")) record.code = Code.Canceled;
      report(record, response, tap, uReq.signal.aborted, (performance.now() - startedAt) / 1000, bytes);
    };
    res.once("close", done);
    const plain = plainPaths.get(path);
    // An uncompressed download in binary envelopes gets its chunks written uncopied (raw-chunks.ts).
    let raw: RawChunkQueue | undefined;
    const chosen = plain
      ? asksForCompression(uReq, plain.method).then((asks) => {
          if (asks) return uHandler;
          if (carriesRawChunks(uReq.header.get("content-type"))) values.set(rawChunksKey, (raw = new RawChunkQueue()));
          return plain;
        })
      : Promise.resolve(uHandler);
    chosen
      .then((h) => h(uReq))
      .then((uRes) => {
        response = uRes;
        const headBytes = uRes.status !== 200 ? 4096 : 0;
        const body = uRes.body && raw && isByteStream(uRes.body) ? spliceRawChunks(uRes.body, raw) : uRes.body;
        // Raw chunks are many pieces per message: let them queue in the stream (writeAhead).
        const out = raw ? writeAhead(res, WRITE_AHEAD_BYTES) : res;
        universalResponseToNodeResponse({ ...uRes, body: body && tapped(body, (n) => (bytes.sent += n), tap, headBytes) }, out).catch(
          (error: unknown) => {
            // The response could not be written: the client went away mid-response.
            record.error ??= error;
          },
        );
      })
      .catch((error: unknown) => {
        // A universal handler turns every error into a response; this is a bug of ours.
        record.code = Code.Internal;
        record.error = error;
        res.destroy();
      })
      .finally(done);
  }

  function report(
    record: RpcRecord,
    response: UniversalServerResponse | undefined,
    tap: BodyTap,
    aborted: boolean,
    seconds: number,
    bytes: { received: number; sent: number },
  ) {
    if (record.code === undefined) Object.assign(record, outcomeOfResponse(response, tap, aborted));
    const code = record.code ?? Code.Unknown;
    const name = codeName(code);
    metrics.rpcDuration.observe({ method: record.procedure, code: name }, seconds);
    metrics.rpcReceivedBytes.inc({ method: record.procedure }, bytes.received);
    metrics.rpcSentBytes.inc({ method: record.procedure }, bytes.sent);
    const internal = code === Code.Internal || code === Code.Unknown;
    const level = internal || code === Code.DataLoss ? "error" : code === Code.Unavailable ? "warn" : QUIET_SERVICES.has(record.procedure.split("/")[0] ?? "") ? "debug" : "info";
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        rpc: record.procedure,
        code: name,
        durationMs: Math.round(seconds * 10_000) / 10,
        bytesIn: bytes.received,
        bytesOut: bytes.sent,
        requestId: record.requestId,
        org: record.orgId,
        keyId: record.keyId,
        ...(record.message !== undefined ? { error: record.message } : {}),
        ...(record.error !== undefined ? { err: errorField(record.error, internal) } : {}),
      },
      "rpc",
    );
  }

  async function serveHttpRoute(name: string, route: HttpRoute, req: Request, res: Response): Promise<void> {
    started(false);
    const startedAt = performance.now();
    try {
      await route(req, res, req.socket?.remoteAddress ?? "");
    } catch (error) {
      // route() answers every error itself; this is a bug of ours, or the client gone mid-answer.
      logger.error({ err: errorField(error, true) }, `${name} request failed`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    } finally {
      finished(false);
      logger.info({ method: `${name} ${req.method} ${req.url?.split("?", 1)[0]}`, status: res.statusCode, seconds: (performance.now() - startedAt) / 1000 }, name.toLowerCase());
    }
  }

  async function serveMetrics(req: Request, res: Response): Promise<void> {
    if (opts.metricsToken !== undefined && req.headers.authorization !== `Bearer ${opts.metricsToken}`) {
      res.writeHead(401, { "content-type": "text/plain" });
      res.end("GET /metrics needs the header: authorization: Bearer <TRAINTRACK_METRICS_TOKEN>\n");
      return;
    }
    try {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(text);
    } catch (error) {
      logger.error({ err: errorField(error, true) }, "collecting metrics failed");
      res.writeHead(500);
      res.end();
    }
  }

  return {
    handle,
    get inFlight() {
      return inFlight;
    },
    idle({ includeHealth }) {
      return busy(includeHealth) ? new Promise<void>((wake) => idleWaiters.add({ includeHealth, wake })) : Promise.resolve();
    },
  };
}
