/** How download bytes are cut into messages, and which artefacts may be compressed when asked. */
import { describe, expect, it } from "vitest";
import { rechunk } from "../../src/wire/artefact-stream.js";
import { compressible } from "../../src/wire/download-compression.js";

async function sizesOf(pieces: number[], size: number): Promise<{ sizes: number[]; bytes: Buffer }> {
  let n = 0;
  const input = pieces.map((len) => Buffer.from(Array.from({ length: len }, () => n++ % 251)));
  const out: Buffer[] = [];
  for await (const chunk of rechunk((async function* () { yield* input; })(), size)) out.push(chunk);
  return { sizes: out.map((c) => c.length), bytes: Buffer.concat(out) };
}

describe("rechunk", () => {
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
