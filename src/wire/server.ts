/**
 * One port for gRPC, gRPC-Web and Connect, over HTTP/2 cleartext and HTTP/1.1.
 *
 * Without TLS there is no ALPN to pick the protocol, and Node's
 * `http2.createServer({ allowHTTP1: true })` only falls back to HTTP/1.1 on
 * TLS. So a plain TCP server peeks at each connection's first bytes: the
 * HTTP/2 client preface ("PRI * HTTP/2.0") goes to an http2 server, anything
 * else to an http server, both serving the same Connect handler.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";

export interface ServerOptions {
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  host: string;
  port: number;
  /** Largest request message accepted, per message. */
  readMaxBytes: number;
}

export interface RunningServer {
  port: number;
  /** Stops accepting, ends open connections and streams, and resolves when all are closed. */
  close(): Promise<void>;
}

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");
const H2_WINDOW_BYTES = 2 * 1024 * 1024;
const H2_CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;
const H2_MAX_FRAME_BYTES = 1024 * 1024;

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const handler = connectNodeAdapter({ routes: opts.routes, interceptors: opts.interceptors, readMaxBytes: opts.readMaxBytes });
  // HTTP/2's defaults (64 KiB windows, 16 KiB frames) make a client stop for a
  // WINDOW_UPDATE every 64 KiB and cut a 1 MiB chunk into 64 frames: uploads
  // crawl and burn CPU. Larger windows and frames let a stream flow; memory
  // stays bounded because a window is only what a peer may send unread.
  const h2 = http2.createServer({ settings: { initialWindowSize: H2_WINDOW_BYTES, maxFrameSize: H2_MAX_FRAME_BYTES } }, handler);
  // Long uploads and downloads are legitimate: no request timeout on HTTP/1.1.
  const h1 = http.createServer({ requestTimeout: 0 }, handler);
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("connect", () => session.setLocalWindowSize(H2_CONNECTION_WINDOW_BYTES));
    session.once("close", () => sessions.delete(session));
  });
  const sockets = new Set<net.Socket>();

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("data", (head: Buffer) => {
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
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(opts.port, opts.host, () => resolve());
  });
  const address = tcp.address();
  const port = typeof address === "object" && address ? address.port : opts.port;

  return {
    port,
    async close() {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      // Clients keep HTTP/2 sessions open indefinitely; closing would wait forever.
      for (const session of sessions) session.destroy();
      h1.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
