/**
 * How artefact bytes travel on the way out, on both backends: in ~1 MiB
 * messages (the last shorter) whatever the store yields, exact for any
 * offset and length, and uncompressed unless the request asks, even though
 * connect-node clients offer gzip by default; when asked, compressed only if
 * the format can shrink.
 */
import type { Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetService } from "../../gen/traintrack/v1/dataset_pb.js";
import { ExperimentService } from "../../gen/traintrack/v1/experiment_pb.js";
import { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { UploadService } from "../../gen/traintrack/v1/upload_pb.js";
import { bytesOf, upload } from "../support/data.js";
import { backends, type TestServer, startTestServer } from "../support/server.js";
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
