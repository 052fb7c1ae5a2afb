/**
 * One port for gRPC, gRPC-Web and Connect, over HTTP/2 cleartext and HTTP/1.1.
 *
 * Without TLS there is no ALPN to pick the protocol, and Node's
 * `http2.createServer({ allowHTTP1: true })` only falls back to HTTP/1.1 on
 * TLS. So a plain TCP server peeks at each connection's first bytes: the
 * HTTP/2 client preface ("PRI * HTTP/2.0") goes to an http2 server, anything
 * else to an http server, both serving the same handler.
 *
 * Every connection is bounded: its first bytes and an HTTP/1.1 request's
 * headers must arrive in time, a silent connection is closed, HTTP/2 caps the
 * concurrent streams of one connection, and the listener caps connections.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ConnectionLimits } from "../config.js";
import type { NodeHandler } from "./node-handler.js";

export interface ServerOptions {
  handler: NodeHandler;
  host: string;
  port: number;
  limits: ConnectionLimits;
}

export interface ShutdownOptions {
  /** How long in-flight RPCs get to finish. */
  graceMs: number;
  /** Called once the grace period is over (or nothing but health watches is left) with streams still open: end them. */
  endStreams: () => void;
}

export interface RunningServer {
  port: number;
  /**
   * Stops accepting connections and streams, waits up to the grace period for
   * in-flight RPCs, asks the rest to end, then closes every connection.
   */
  close(opts?: ShutdownOptions): Promise<void>;
}

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");
const H2_WINDOW_BYTES = 2 * 1024 * 1024;
const H2_CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;
const H2_MAX_FRAME_BYTES = 1024 * 1024;
/** After the grace period, how long streams that were told to end get to send their final status. */
const ABORT_WAIT_MS = 5000;

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { handler, limits } = opts;
  const handle = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) =>
    handler.handle(req, res);
  // HTTP/2's defaults (64 KiB windows, 16 KiB frames) make a client stop for a
  // WINDOW_UPDATE every 64 KiB and cut a 1 MiB chunk into 64 frames: uploads
  // crawl and burn CPU. Larger windows and frames let a stream flow; memory
  // stays bounded because a window is only what a peer may send unread.
  const h2 = http2.createServer(
    {
      settings: {
        initialWindowSize: H2_WINDOW_BYTES,
        maxFrameSize: H2_MAX_FRAME_BYTES,
        maxConcurrentStreams: limits.maxStreamsPerConnection,
      },
    },
    handle,
  );
  // Long uploads and downloads are legitimate: no limit on a whole request,
  // only on its headers and on silence (an upload's own idle timeout is shorter).
  const h1 = http.createServer({ requestTimeout: 0, headersTimeout: limits.headersTimeoutMs }, handle);
  h1.timeout = limits.idleTimeoutMs;
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("connect", () => session.setLocalWindowSize(H2_CONNECTION_WINDOW_BYTES));
    session.once("close", () => sessions.delete(session));
    // No frame either way for this long: the peer is gone or parked.
    session.setTimeout(limits.idleTimeoutMs, () => session.destroy());
  });
  const sockets = new Set<net.Socket>();

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // A connection that never says which protocol it speaks holds a socket for nothing.
    socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy());
    socket.once("data", (head: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(head);
      const isH2 = head.subarray(0, H2_PREFACE.length).equals(H2_PREFACE.subarray(0, Math.min(head.length, H2_PREFACE.length)));
      if (isH2) {
        // http2 drains the socket's buffered bytes itself before attaching
        // its native handle; resuming the stream here would race it.
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
  });
  tcp.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(opts.port, opts.host, () => resolve());
  });
  const address = tcp.address();
  const port = typeof address === "object" && address ? address.port : opts.port;

  return {
    port,
    async close(shutdown) {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      if (shutdown && handler.inFlight > 0) {
        // GOAWAY: no new streams on open sessions; HTTP/1.1 connections close once idle.
        for (const session of sessions) session.close();
        h1.closeIdleConnections();
        // Health watches last as long as their clients: they get NOT_SERVING, but are not waited for.
        await within(handler.idle({ includeHealth: false }), shutdown.graceMs);
        if (handler.inFlight > 0) {
          shutdown.endStreams();
          await within(handler.idle({ includeHealth: true }), ABORT_WAIT_MS);
        }
      }
      // Clients keep HTTP/2 sessions open indefinitely; closing would wait forever.
      for (const session of sessions) session.destroy();
      h1.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Waits for `done`, or `ms`, whichever comes first. */
async function within(done: Promise<void>, ms: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([done, sleep(ms, undefined, { signal: timer.signal }).catch(() => undefined)]);
  timer.abort();
}
