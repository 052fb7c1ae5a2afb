/**
 * A connection is bounded however a client behaves: one that never speaks,
 * one that never finishes its headers, one that goes silent, one that opens
 * streams without end.
 */
import { once } from "node:events";
import http2 from "node:http2";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

describe("connection limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded", {
      env: {
        TRAINTRACK_HEADERS_TIMEOUT_SECONDS: "1",
        TRAINTRACK_CONNECTION_IDLE_TIMEOUT_SECONDS: "2",
      },
    });
  });
  afterAll(async () => server?.close());

  const connect = async () => {
    const socket = net.connect(server.app.port, "127.0.0.1");
    await once(socket, "connect");
    return socket;
  };

  it("closes a connection that never sends a byte", async () => {
    const socket = await connect();
    await once(socket, "close");
    expect(socket.bytesWritten).toBe(0);
  });

  it("closes an HTTP/1.1 connection whose request headers never finish", async () => {
    const socket = await connect();
    socket.on("error", () => undefined);
    socket.write("POST /traintrack.v1.DatasetService/ListDatasets HTTP/1.1\r\nHost: x\r\n");
    const reply: Buffer[] = [];
    socket.on("data", (d: Buffer) => reply.push(d));
    await once(socket, "close");
    // Node answers 408 before closing, or just closes.
    expect(Buffer.concat(reply).toString()).not.toContain("200 OK");
  });

  it("closes an HTTP/2 connection that stays silent", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => undefined);
    await once(session, "connect");
    await once(session, "close");
    expect(session.destroyed).toBe(true);
  });

});

describe("streams per connection", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("embedded", { env: { TRAINTRACK_MAX_STREAMS_PER_CONNECTION: "3" } });
  });
  afterAll(async () => server?.close());

  it("holds a connection to the advertised number of concurrent streams", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => undefined);
    await once(session, "remoteSettings");
    expect(session.remoteSettings.maxConcurrentStreams).toBe(3);
    const events: string[] = [];
    // Health Watch streams stay open until the client ends them.
    const watch = (name: string) => {
      const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Watch", "content-type": "application/grpc", te: "trailers" });
      stream.on("error", () => undefined);
      stream.once("response", () => events.push(`${name} served`));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
      return stream;
    };
    const open = [watch("1"), watch("2"), watch("3")];
    await Promise.all(open.map((s) => once(s, "response")));
    const fourth = watch("4");
    // Two round trips: a fourth stream let through would have been answered by now.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => session.ping(resolve));
    events.push("1 ended");
    open[0]?.close(http2.constants.NGHTTP2_CANCEL);
    await once(fourth, "response");
    expect(events.slice(0, 3).sort()).toEqual(["1 served", "2 served", "3 served"]);
    expect(events.slice(3)).toEqual(["1 ended", "4 served"]);
    session.destroy();
  });
});
