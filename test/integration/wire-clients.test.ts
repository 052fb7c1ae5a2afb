/**
 * Independent clients prove wire compatibility: grpcurl (Go, no proto files:
 * it learns the API through reflection) and @grpc/grpc-js with proto-loader
 * (the reference Node gRPC implementation, not the Connect one).
 */
import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { bytesOf, download, sha256 } from "../support/data.js";
import { backends, startTestServer, type TestServer } from "../support/server.js";
import { grpcurlPath } from "../support/services.js";

const run = promisify(execFile);

/** Runs grpcurl with `stdin`, returning the JSON messages it printed (it prints them pretty, back to back). */
function grpcurl(args: string[], stdin = ""): Promise<Record<string, any>[]> {
  const binary = grpcurlPath();
  if (!binary) throw new Error("grpcurl is not installed");
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`grpcurl exited ${code}: ${err}`));
      resolve(splitJson(out));
    });
    child.stdin.end(stdin);
  });
}

function splitJson(text: string): Record<string, any>[] {
  const messages: Record<string, any>[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    pending += `${line}\n`;
    if (line === "}") {
      messages.push(JSON.parse(pending));
      pending = "";
    }
  }
  return messages;
}

describe.each(backends())("independent clients on $name", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend.name);
  });
  afterAll(async () => server?.close());

  describe.skipIf(!backend.available || (!grpcurlPath() && process.env.CI !== "true"))("grpcurl", () => {
    const target = () => `127.0.0.1:${server.app.port}`;
    const auth = () => ["-plaintext", "-H", `authorization: Bearer ${server.apiKey}`];

    it("lists the services through reflection without any proto file", async () => {
      const { stdout } = await run(grpcurlPath() ?? "grpcurl", ["-plaintext", target(), "list"]);
      expect(stdout.split("\n")).toEqual(expect.arrayContaining(["traintrack.v1.UploadService", "traintrack.v1.DatasetService", "grpc.health.v1.Health"]));
    });

    it("uploads a file, commits it, and downloads the same bytes", async () => {
      const data = bytesOf(300_000, 7);
      const chunks = [data.subarray(0, 100_000), data.subarray(100_000)].map((c) => JSON.stringify({ chunk: c.toString("base64") }));
      const header = JSON.stringify({ header: { newUpload: { fileName: "data.bin", size: String(data.length), sha256: sha256(data) } } });
      const [uploaded] = await grpcurl([...auth(), "-d", "@", target(), "traintrack.v1.UploadService/Upload"], [header, ...chunks].join("\n"));
      expect(uploaded?.upload.state).toBe("UPLOAD_STATE_COMPLETE");

      const request = { name: "from-grpcurl", version: "1.0.0", artefacts: [{ uploadId: uploaded?.upload.uploadId }] };
      const [created] = await grpcurl([...auth(), "-d", JSON.stringify(request), target(), "traintrack.v1.DatasetService/CreateDataset"]);
      expect(created?.dataset.artefacts[0].sha256).toBe(sha256(data));

      const pull = { dataset: { name: "from-grpcurl", version: "1.0.0" }, path: "data.bin" };
      const messages = await grpcurl([...auth(), "-d", JSON.stringify(pull), target(), "traintrack.v1.DatasetService/DownloadArtefact"]);
      expect(messages[0]?.artefact.sha256).toBe(sha256(data));
      const bytes = Buffer.concat(messages.slice(1).map((m) => Buffer.from(m.chunk as string, "base64")));
      expect(bytes.equals(data)).toBe(true);
    });

    it("is refused without an API key but answers health checks", async () => {
      await expect(grpcurl(["-plaintext", "-d", "{}", target(), "traintrack.v1.DatasetService/ListDatasets"])).rejects.toThrow(/Unauthenticated/);
      const [health] = await grpcurl(["-plaintext", target(), "grpc.health.v1.Health/Check"]);
      expect(health?.status).toBe("SERVING");
    });
  });

  describe.skipIf(!backend.available)("@grpc/grpc-js", () => {
    it("streams an upload the Connect server accepts and commits", async () => {
      const definition = protoLoader.loadSync(["traintrack/v1/upload.proto"], {
        includeDirs: [path.resolve("proto")],
        longs: String,
        enums: String,
        defaults: true,
        oneofs: true,
      });
      const proto = grpc.loadPackageDefinition(definition) as any;
      const client = new proto.traintrack.v1.UploadService(`127.0.0.1:${server.app.port}`, grpc.credentials.createInsecure());
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${server.apiKey}`);
      const data = bytesOf(3 * 1024 * 1024 + 17, 8);

      const response = await new Promise<any>((resolve, reject) => {
        const call = client.upload(metadata, (error: grpc.ServiceError | null, res: unknown) => (error ? reject(error) : resolve(res)));
        call.write({ header: { newUpload: { fileName: "grpc-js.bin", mediaType: "application/octet-stream", size: data.length } } });
        for (let at = 0; at < data.length; at += 256 * 1024) call.write({ chunk: data.subarray(at, at + 256 * 1024) });
        call.end();
      });
      client.close();
      expect(response.upload.state).toBe("UPLOAD_STATE_COMPLETE");
      expect(response.upload.sha256).toBe(sha256(data));

      const datasets = server.client(DatasetService);
      await datasets.createDataset({ name: "from-grpc-js", version: "1", artefacts: [{ uploadId: response.upload.uploadId }] });
      expect((await download(datasets, "from-grpc-js", "1", "grpc-js.bin")).bytes.equals(data)).toBe(true);
    });
  });
});
