/**
 * How artefact bytes travel on the way out, on both backends: in ~1 MiB
 * messages (the last shorter) whatever the store yields, exact for any
 * offset and length, and uncompressed unless the request asks, even though
 * connect-node clients offer gzip by default; when asked, compressed only if
 * the format can shrink. Chunks skip Connect's serialisation (raw-chunks.ts),
 * so every protocol, and grpc-js as an independent decoder, must read them.
 */
import path from "node:path";
import { Readable } from "node:stream";
import { Code, type Client, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { bytesOf, sha256, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer, withKey } from "../support/server.js";
import { uniqueSuffix } from "../support/services.js";

const MiB = 1024 * 1024;

/** Text that gzip shrinks several times over. */
function csvOf(bytes: number): Buffer {
  const rows: string[] = ["id,label,score\n"];
  let length = rows[0]?.length ?? 0;
  for (let i = 0; length < bytes; i++) {
    const row = `${i},${i % 7 === 0 ? "cat" : "dog"},${(i * 37) % 1000}\n`;
    rows.push(row);
    length += row.length;
  }
  return Buffer.from(rows.join("")).subarray(0, bytes);
}

interface Received {
  chunks: number[];
  bytes: Buffer;
  /** The response's content encoding: gRPC's grpc-encoding or the Connect protocol's connect-content-encoding. */
  encoding: string | null;
}

async function received(messages: AsyncIterable<{ payload: { case: string | undefined; value?: unknown } }>, header: () => Headers | undefined): Promise<Received> {
  const parts: Buffer[] = [];
  for await (const m of messages) if (m.payload.case === "chunk") parts.push(Buffer.from(m.payload.value as Uint8Array));
  const h = header();
  return { chunks: parts.map((p) => p.length), bytes: Buffer.concat(parts), encoding: h?.get("grpc-encoding") ?? h?.get("connect-content-encoding") ?? null };
}

describe.each(backends())("downloads on $name", (backend) => {
  let server: TestServer;
  const big = bytesOf(2 * MiB + MiB / 2 + 7, 4242); // segments and messages both end inside it
  const csv = csvOf(3 * MiB);
  let name = "";
  let runId = "";

  beforeAll(async () => {
    if (!backend.available) return;
    server = await startTestServer(backend.name);
    const uploads = server.client(UploadService);
    const [b, c, p] = [await upload(uploads, "big.bin", big), await upload(uploads, "table.csv", csv), await upload(uploads, "table.parquet", csv)];
    name = `dl-${uniqueSuffix()}`;
    const artefacts = [
      { uploadId: b.uploadId, path: "big.bin" },
      { uploadId: c.uploadId, path: "table.csv" },
      { uploadId: p.uploadId, path: "table.parquet" }, // compressible bytes, but named as a compressed format
    ];
    await server.client(DatasetService).createDataset({ name, version: "1", artefacts });
    runId = (await server.client(ExperimentService).createRun({ project: "dl", experiment: "e" })).run?.runId ?? "";
    const again = await upload(uploads, "big.bin", big); // an upload is committed once
    await server.client(RunArtefactService).logRunArtefacts({ runId, artefacts: [{ uploadId: again.uploadId, path: "model/big.bin" }] });
  });
  afterAll(async () => server?.close());

  const datasets = (transport: keyof TestServer["transports"] = "grpc"): Client<typeof DatasetService> => server.client(DatasetService, transport);
  function datasetBytes(req: { path: string; offset?: bigint; length?: bigint; compress?: boolean }, transport: keyof TestServer["transports"] = "grpc") {
    let header: Headers | undefined;
    const messages = datasets(transport).downloadArtefact({ dataset: { name, version: "1" }, ...req }, { onHeader: (h) => void (header = h) });
    return received(messages, () => header);
  }

  describe.skipIf(!backend.available)("", () => {
    it("sends the bytes in 1 MiB messages, the last one shorter, for dataset and run artefacts", async () => {
      const whole = await datasetBytes({ path: "big.bin" });
      expect(whole.chunks).toEqual([MiB, MiB, MiB / 2 + 7]);
      expect(whole.bytes.equals(big)).toBe(true);
      const parts: number[] = [];
      for await (const m of server.client(RunArtefactService).downloadRunArtefact({ runId, path: "model/big.bin", offset: 5n })) {
        if (m.payload.case === "chunk") parts.push(m.payload.value.length);
      }
      expect(parts).toEqual([MiB, MiB, MiB / 2 + 2]);
    });

    it("reads exact ranges across message boundaries, and cuts a length that reaches past the end", async () => {
      const cases: [number, number | undefined][] = [
        [MiB - 1, 2],
        [MiB, MiB],
        [MiB - 3, MiB + 6],
        [0, 1],
        [big.length - 1, undefined],
        [big.length - 10, 1000],
        [7, 0],
        [big.length, undefined],
      ];
      for (const [offset, length] of cases) {
        const got = await datasetBytes({ path: "big.bin", offset: BigInt(offset), length: length === undefined ? undefined : BigInt(length) });
        const want = big.subarray(offset, length === undefined ? undefined : offset + length);
        expect({ offset, length, size: got.bytes.length, same: got.bytes.equals(want) }).toEqual({ offset, length, size: want.length, same: true });
      }
      let runBytes = Buffer.alloc(0);
      for await (const m of server.client(RunArtefactService).downloadRunArtefact({ runId, path: "model/big.bin", offset: BigInt(2 * MiB - 1), length: 3n })) {
        if (m.payload.case === "chunk") runBytes = Buffer.concat([runBytes, m.payload.value]);
      }
      expect(runBytes.equals(big.subarray(2 * MiB - 1, 2 * MiB + 2))).toBe(true);
    });

    it("sends the same messages over gRPC, gRPC-Web, Connect (HTTP/1.1 and HTTP/2) and Connect JSON, whole and in ranges", async () => {
      const json = createClient(DatasetService, withKey(createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1", useBinaryFormat: false }), server.apiKey));
      for (const transport of ["grpc", "grpcWeb", "connectH1", "connectH2", "json"] as const) {
        const client = transport === "json" ? json : datasets(transport);
        for (const [offset, length] of [[0, undefined], [MiB - 3, MiB + 6], [2 * MiB + 1, undefined]] as const) {
          const parts: Buffer[] = [];
          let first: string | undefined;
          for await (const m of client.downloadArtefact({ dataset: { name, version: "1" }, path: "big.bin", offset: BigInt(offset), length: length === undefined ? undefined : BigInt(length) })) {
            first ??= m.payload.case;
            if (m.payload.case === "chunk") parts.push(Buffer.from(m.payload.value));
          }
          const want = big.subarray(offset, length === undefined ? undefined : offset + length);
          const wantChunks = Array.from({ length: Math.ceil(want.length / MiB) }, (_, i) => Math.min(MiB, want.length - i * MiB));
          const got = { transport, offset, first, chunks: parts.map((p) => p.length), same: Buffer.concat(parts).equals(want) };
          expect(got).toEqual({ transport, offset, first: "artefact", chunks: wantChunks, same: true });
        }
      }
    });

    it("sends messages that grpc-js, an independent gRPC implementation, decodes", async () => {
      const definition = protoLoader.loadSync(["traintrack/v1/dataset.proto"], { includeDirs: [path.resolve("proto")], longs: String, defaults: true, oneofs: true });
      const proto = grpc.loadPackageDefinition(definition) as any;
      const client = new proto.traintrack.v1.DatasetService(`127.0.0.1:${server.app.port}`, grpc.credentials.createInsecure());
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${server.apiKey}`);
      try {
        for (const offset of [0, MiB + 1]) {
          const call = client.downloadArtefact({ dataset: { name, version: "1" }, path: "big.bin", offset }, metadata);
          const kinds: string[] = [];
          const parts: Buffer[] = [];
          for await (const m of call as AsyncIterable<any>) {
            kinds.push(m.payload);
            if (m.payload === "chunk") parts.push(m.chunk);
          }
          const want = big.subarray(offset);
          expect({ offset, first: kinds[0], chunks: parts.map((p) => p.length), same: Buffer.concat(parts).equals(want) }).toEqual({
            offset,
            first: "artefact",
            chunks: Array.from({ length: Math.ceil(want.length / MiB) }, (_, i) => Math.min(MiB, want.length - i * MiB)),
            same: true,
          });
        }
      } finally {
        client.close();
      }
    });

    it("reports DATA_LOSS after the chunks it could send when the object is short, on every protocol", async () => {
      const data = bytesOf(2 * MiB + 100, 777);
      const { uploadId } = await upload(server.client(UploadService), "short.bin", data);
      const shortName = `dl-short-${uniqueSuffix()}`;
      await server.client(DatasetService).createDataset({ name: shortName, version: "1", artefacts: [{ uploadId, path: "short.bin" }] });
      const { physicalKey } = await server.app.db.selectFrom("blobs").select("physicalKey").where("sha256", "=", sha256(data)).executeTakeFirstOrThrow();
      const kept = data.subarray(0, MiB + MiB / 2);
      await server.app.store.put(physicalKey, Readable.from([kept]), kept.length);
      for (const transport of ["grpc", "grpcWeb", "connectH1", "connectH2"] as const) {
        const parts: Buffer[] = [];
        let code: string | undefined;
        try {
          for await (const m of datasets(transport).downloadArtefact({ dataset: { name: shortName, version: "1" }, path: "short.bin" })) {
            if (m.payload.case === "chunk") parts.push(Buffer.from(m.payload.value));
          }
        } catch (error) {
          code = Code[ConnectError.from(error).code];
        }
        expect({ transport, code, chunks: parts.map((p) => p.length), prefix: Buffer.concat(parts).equals(data.subarray(0, MiB)) }).toEqual({
          transport,
          code: "DataLoss",
          chunks: [MiB],
          prefix: true,
        });
      }
    });

    it("refuses a negative length at the edge", async () => {
      await expect(datasetBytes({ path: "big.bin", length: -1n })).rejects.toThrow(/length must not be negative/);
    });

    it("sends uncompressed bytes to clients that offer gzip by default, over gRPC, gRPC-Web and Connect", async () => {
      for (const transport of ["grpc", "grpcWeb", "connectH1", "connectH2"] as const) {
        const got = await datasetBytes({ path: "table.csv" }, transport);
        expect({ transport, encoding: got.encoding, same: got.bytes.equals(csv) }).toEqual({ transport, encoding: null, same: true });
      }
    });

    it("compresses a compressible artefact when asked, and a compressed format never", async () => {
      // The encoding header is what the client decompresses by: gzip here means gzipped messages on the wire.
      const asked = await datasetBytes({ path: "table.csv", compress: true });
      expect(asked.encoding).toBe("gzip");
      expect(asked.bytes.equals(csv)).toBe(true);
      for (const transport of ["connectH1", "grpcWeb"] as const) {
        expect((await datasetBytes({ path: "table.csv", compress: true }, transport)).encoding).toBe("gzip");
      }
      const parquet = await datasetBytes({ path: "table.parquet", compress: true });
      expect({ encoding: parquet.encoding, same: parquet.bytes.equals(csv) }).toEqual({ encoding: null, same: true });
      const run: Buffer[] = [];
      let runHeader: Headers | undefined;
      for await (const m of server.client(RunArtefactService).downloadRunArtefact({ runId, path: "model/big.bin", compress: true }, { onHeader: (h) => void (runHeader = h) })) {
        if (m.payload.case === "chunk") run.push(Buffer.from(m.payload.value));
      }
      expect(runHeader?.get("grpc-encoding")).toBe("gzip");
      expect(Buffer.concat(run).equals(big)).toBe(true);
    });
  });
});
