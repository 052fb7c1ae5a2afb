import http from "node:http";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/ops/logger.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";

// A body that is not the method's protobuf message is the client's error:
// INVALID_ARGUMENT on every protocol, unary and client-streaming, never the
// INTERNAL the Connect library raises for it on its own.

const GARBAGE = Buffer.alloc(5, 0xff); // a varint that never ends: "premature EOF"
const INVALID_ARGUMENT = 3;

/** One length-prefixed message (gRPC, gRPC-Web and Connect streams). */
const envelope = (flags: number, data: Buffer) => {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
};

/** The envelopes of a body, by flag and data. */
function envelopes(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push({ flags: body.readUInt8(at), data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

function postH1(baseUrl: string, path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, baseUrl), { method: "POST", headers: { ...headers, "content-length": String(body.length) } }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function postGrpc(baseUrl: string, path: string, apiKey: string, body: Buffer): Promise<{ status: string | undefined; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on("error", reject);
    const req = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc+proto",
      te: "trailers",
      authorization: `Bearer ${apiKey}`,
    });
    let headers: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => (headers = h));
    req.on("trailers", (t) => (headers = { ...headers, ...t }));
    req.on("data", () => undefined);
    req.on("end", () => {
      session.close();
      const message = headers["grpc-message"];
      resolve({ status: headers["grpc-status"] as string | undefined, message: decodeURIComponent(typeof message === "string" ? message : "") });
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe.each(backends().filter((b) => b.name === "postgres+minio"))("malformed bodies ($name)", (backend) => {
  describe.skipIf(!backend.available)("are INVALID_ARGUMENT on every protocol", () => {
    let s: TestServer;
    const logged: { msg: string; rpc?: string; code?: string }[] = [];
    beforeAll(async () => {
      const logger = createLogger("info", { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) });
      s = await startTestServer(backend.name, { overrides: { logger } });
    });
    afterAll(async () => {
      await s?.close();
    });
    const auth = () => ({ authorization: `Bearer ${s.apiKey}` });

    describe.each([
      ["unary GetDataset", "/traintrack.v1.DatasetService/GetDataset", "traintrack.v1.GetDatasetRequest"],
      ["client-streaming Upload", "/traintrack.v1.UploadService/Upload", "traintrack.v1.UploadRequest"],
    ])("%s", (_, path, typeName) => {
      it("over gRPC (h2c)", async () => {
        const res = await postGrpc(s.baseUrl, path, s.apiKey, envelope(0, GARBAGE));
        expect(res.status, res.message).toBe(String(INVALID_ARGUMENT));
        expect(res.message).toContain(`not a valid ${typeName} message`);
      });

      it("over gRPC-Web (HTTP/1.1)", async () => {
        const res = await postH1(s.baseUrl, path, { ...auth(), "content-type": "application/grpc-web+proto" }, envelope(0, GARBAGE));
        const trailer = envelopes(res.body).find((e) => e.flags === 0x80)?.data.toString("utf8") ?? "";
        expect(trailer).toMatch(new RegExp(`grpc-status: ${INVALID_ARGUMENT}\\r\\n`));
        expect(decodeURIComponent(trailer)).toContain(`not a valid ${typeName} message`);
      });
    });

    it("unary over Connect (HTTP/1.1, application/proto)", async () => {
      const res = await postH1(
        s.baseUrl,
        "/traintrack.v1.DatasetService/GetDataset",
        { ...auth(), "content-type": "application/proto", "connect-protocol-version": "1" },
        GARBAGE,
      );
      expect(res.status).toBe(400);
      const error = JSON.parse(res.body.toString("utf8")) as { code: string; message: string };
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toContain("not a valid traintrack.v1.GetDatasetRequest message");
    });

    it("client-streaming Upload over Connect (HTTP/1.1, application/connect+proto)", async () => {
      const res = await postH1(
        s.baseUrl,
        "/traintrack.v1.UploadService/Upload",
        { ...auth(), "content-type": "application/connect+proto", "connect-protocol-version": "1" },
        envelope(0, GARBAGE),
      );
      const end = envelopes(res.body).find((e) => e.flags === 0x02);
      const json = JSON.parse(end?.data.toString("utf8") ?? "{}") as { error?: { code: string; message: string } };
      expect(json.error?.code).toBe("invalid_argument");
      expect(json.error?.message).toContain("not a valid traintrack.v1.UploadRequest message");
    });

    it("malformed JSON stays INVALID_ARGUMENT over Connect", async () => {
      const res = await postH1(
        s.baseUrl,
        "/traintrack.v1.DatasetService/GetDataset",
        { ...auth(), "content-type": "application/json", "connect-protocol-version": "1" },
        Buffer.from("{not json"),
      );
      expect(res.status).toBe(400);
      expect((JSON.parse(res.body.toString("utf8")) as { code: string }).code).toBe("invalid_argument");
    });

    it("logs every one of them as invalid_argument, the code the client got", async () => {
      const codes = () => logged.filter((l) => l.msg === "rpc").map((l) => `${l.rpc} ${l.code}`);
      // Lines are written as responses close, which may be just after the client saw them.
      while (codes().length < 7) await new Promise((r) => setTimeout(r, 10));
      expect(codes().filter((c) => !c.endsWith(" invalid_argument"))).toEqual([]);
    });

    it("a well-formed request on the same routes is still served", async () => {
      const res = await postGrpc(s.baseUrl, "/traintrack.v1.DatasetService/GetDataset", s.apiKey, envelope(0, Buffer.from([0x0a, 0x01, 0x78])));
      expect(res.status, res.message).toBe("5"); // NOT_FOUND: dataset "x"
    });
  });
});
