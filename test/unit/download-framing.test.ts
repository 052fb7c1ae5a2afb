/** How download bytes are cut into messages, and which artefacts may be compressed when asked. */
import { once } from "node:events";
import { Writable } from "node:stream";
import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DownloadArtefactResponseSchema } from "../../gen/traintrack/v1/dataset_pb.js";
import { DownloadRunArtefactResponseSchema } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { chunkGroups } from "../../src/wire/artefact-stream.js";
import { chunkEnvelopeHeader, RawChunkQueue, spliceRawChunks, writeAhead } from "../../src/wire/raw-chunks.js";
import { compressible } from "../../src/wire/download-compression.js";

async function sizesOf(pieces: number[], size: number): Promise<{ sizes: number[]; bytes: Buffer }> {
  let n = 0;
  const input = pieces.map((len) => Buffer.from(Array.from({ length: len }, () => n++ % 251)));
  const out: Buffer[] = [];
  for await (const group of chunkGroups((async function* () { yield* input; })(), size)) out.push(Buffer.concat(group));
  return { sizes: out.map((c) => c.length), bytes: Buffer.concat(out) };
}

describe("chunk sizes of chunkGroups", () => {
  it("joins small pieces into whole chunks, the last one shorter, keeping every byte in order", async () => {
    const { sizes, bytes } = await sizesOf([3, 3, 3, 3, 1], 4);
    expect(sizes).toEqual([4, 4, 4, 1]);
    expect([...bytes]).toEqual(Array.from({ length: 13 }, (_, i) => i % 251));
  });

  it("cuts large pieces, passing whole chunks through and carrying the rest over", async () => {
    expect((await sizesOf([10, 1, 5], 4)).sizes).toEqual([4, 4, 4, 4]);
    expect((await sizesOf([4, 4], 4)).sizes).toEqual([4, 4]);
    expect((await sizesOf([], 4)).sizes).toEqual([]);
  });
});

describe("compressible", () => {
  it("refuses formats that are compressed already, by extension, in any case", () => {
    for (const path of ["a/b.parquet", "x.CSV.GZ", "m.safetensors", "img.JPG", "p.png", "d.zip", "t.zst"]) expect({ path, ok: compressible(path) }).toEqual({ path, ok: false });
    for (const path of ["train.csv", "data.jsonl", "README", "dir.parquet/notes.txt"]) expect({ path, ok: compressible(path) }).toEqual({ path, ok: true });
  });
});

describe("chunkGroups", () => {
  it("hands whole pieces through as they are, cutting only the pieces that straddle a chunk", async () => {
    const pieces = [Buffer.alloc(3, 1), Buffer.alloc(3, 2), Buffer.alloc(5, 3)];
    const groups: Buffer[][] = [];
    for await (const g of chunkGroups((async function* () { yield* pieces; })(), 4)) groups.push(g);
    expect(groups.map((g) => g.map((p) => p.length))).toEqual([[3, 1], [2, 2], [3]]);
    expect(groups[0]?.[0]).toBe(pieces[0]); // not a copy
  });
});

/** Splits enveloped bytes into [flags, payload] pairs. */
function envelopes(bytes: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at + 1);
    out.push([bytes[at] ?? -1, bytes.subarray(at + 5, at + 5 + length)]);
    at += 5 + length;
  }
  return out;
}

const described = (p: { case: string | undefined; value?: unknown }) =>
  p.case === "chunk" ? `chunk ${Buffer.from(p.value as Uint8Array).toString()}` : String(p.case);

describe("raw chunks", () => {
  it("writes envelopes the generated decoders read as chunk messages, for sizes across varint widths", () => {
    for (const size of [1, 127, 128, 16_383, 16_384, 1024 * 1024, 2_097_152 + 5]) {
      const data = Buffer.alloc(size, size % 251);
      const [[flags, payload]] = envelopes(Buffer.concat([chunkEnvelopeHeader(size), data])) as [[number, Buffer]];
      expect(flags).toBe(0);
      for (const schema of [DownloadArtefactResponseSchema, DownloadRunArtefactResponseSchema]) {
        const m = fromBinary(schema, payload);
        expect({ size, case: m.payload.case, same: Buffer.from(m.payload.value as Uint8Array).equals(data) }).toEqual({ size, case: "chunk", same: true });
      }
    }
  });

  it("puts each placeholder's pieces in its place, in order, and passes every other envelope through", async () => {
    const queue = new RawChunkQueue();
    queue.push([Buffer.from("ab"), Buffer.from("c")]);
    queue.push([Buffer.from("def")]);
    const placeholder = Buffer.from([0, 0, 0, 0, 2, 0x12, 0]);
    const description = Buffer.from([0, 0, 0, 0, 2, 0x0a, 0]);
    const trailer = Buffer.from([0x80, 0, 0, 0, 2, 0x12, 0]);
    const body = (async function* () { yield* [description, placeholder, placeholder, trailer]; })();
    const out: Uint8Array[] = [];
    for await (const item of spliceRawChunks(body, queue)) out.push(item);
    const got = envelopes(Buffer.concat(out)).map(([flags, payload]) => [flags, flags === 0 ? described(fromBinary(DownloadArtefactResponseSchema, payload).payload) : payload.toString("hex")]);
    expect(got).toEqual([
      [0, "artefact"],
      [0, "chunk abc"],
      [0, "chunk def"],
      [0x80, "1200"],
    ]);
    expect(queue.size).toBe(0);
  });
});

describe("writeAhead", () => {
  /** A stream whose writes complete only when `finish` is called, as a socket's do when the client reads. */
  function slowStream() {
    const pending: (() => void)[] = [];
    const stream = new Writable({ highWaterMark: 16 * 1024, write: (_chunk, _enc, cb) => void pending.push(() => cb()) });
    const finish = () => { while (pending.length > 0) pending.shift()?.(); };
    return { stream, finish };
  }

  it("accepts writes past the stream's high-water mark up to its limit, then asks to wait for drain", async () => {
    const { stream, finish } = slowStream();
    const out = writeAhead(stream, 256 * 1024);
    const piece = Buffer.alloc(64 * 1024);
    expect([out.write(piece), out.write(piece), out.write(piece)]).toEqual([true, true, true]);
    expect(out.write(piece)).toBe(false);
    const drained = once(stream, "drain");
    for (let i = 0; i < 5; i++) finish(); // the first write, then the rest as one writev or one by one
    await drained;
    expect(stream.writableLength).toBe(0);
  });

  it("reports a refused write as refused", () => {
    const { stream } = slowStream();
    stream.on("error", () => {});
    const out = writeAhead(stream, 256 * 1024);
    stream.end();
    expect(out.write(Buffer.alloc(10))).toBe(false);
  });
});
