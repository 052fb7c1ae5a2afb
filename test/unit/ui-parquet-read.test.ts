/**
 * The Parquet preview's reader (hyparquet through ranged reads) against files
 * written by pyarrow: the schema, the first rows as cells (snappy, and zstd
 * with gzip), the bounds on what it reads, and the HTTP Range slices.
 */
import type { AsyncBuffer } from "hyparquet";
import { describe, expect, it } from "vitest";
import { HttpStatusError, cellOf, httpFile, readFirstRows, readSummary, summarise } from "../../ui/src/pages/datasets/parquet-read.js";
import { PARQUET_FIXTURE, PARQUET_FIXTURE_WIDE } from "../support/parquet-fixture.js";

/** An in-memory file that counts the bytes and the reads asked of it. */
function memoryFile(bytes: Uint8Array): AsyncBuffer & { read: number; reads: number } {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const file = {
    byteLength: buffer.byteLength,
    read: 0,
    reads: 0,
    slice(start: number, end = buffer.byteLength) {
      file.read += end - start;
      file.reads++;
      return buffer.slice(start, end);
    },
  };
  return file;
}

const texts = (rows: { text: string }[][]) => rows.map((r) => r.map((c) => c.text));

describe("readSummary", () => {
  it("reads the columns, rows, row groups and writer from the footer alone", async () => {
    const file = memoryFile(PARQUET_FIXTURE);
    const s = await readSummary(file);
    expect(file.reads).toBe(1); // the footer is in the first 64 KiB read from the end
    expect(s.rows).toBe(5n);
    expect(s.rowGroups).toBe(2);
    expect(s.createdBy).toMatch(/^parquet-cpp-arrow version 26/);
    expect(s.columns).toEqual([
      { path: "id", physicalType: "INT64", logicalType: "", repetition: "optional" },
      { path: "name", physicalType: "BYTE_ARRAY", logicalType: "STRING", repetition: "optional" },
      { path: "score", physicalType: "DOUBLE", logicalType: "", repetition: "optional" },
      { path: "at", physicalType: "INT64", logicalType: "TIMESTAMP(ms, UTC)", repetition: "optional" },
      { path: "price", physicalType: "FIXED_LEN_BYTE_ARRAY", logicalType: "DECIMAL(10, 2)", repetition: "optional" },
      { path: "tags.list.element", physicalType: "BYTE_ARRAY", logicalType: "STRING", repetition: "optional" },
    ]);
    expect(s.shown.map((c) => c.name)).toEqual(["id", "name", "score", "at", "price", "tags"]);
    expect(s.shown[5]?.type).toBe("LIST");
    expect({ hidden: s.hidden, rowEnd: s.rowEnd, rowGroupsRead: s.rowGroupsRead, codecs: s.codecs, tooLarge: s.tooLarge }).toEqual({
      hidden: 0,
      rowEnd: 5,
      rowGroupsRead: 2, // 3 rows, then 2
      codecs: ["SNAPPY"],
      tooLarge: false,
    });
  });

  it("refuses what is not Parquet, and a footer too large to read", async () => {
    await expect(readSummary(memoryFile(new TextEncoder().encode("id,name\n1,a\n2,b\n")))).rejects.toThrow(/PAR1/);
    await expect(readSummary(memoryFile(new Uint8Array(4)))).rejects.toThrow(/too short/);
    // 20 MiB whose last bytes say the footer is 9 MiB: only the first 64 KiB from the end are read.
    const size = 20 * 1024 * 1024;
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, 9 * 1024 * 1024, true);
    tail.set(new TextEncoder().encode("PAR1"), 4);
    let read = 0;
    const huge: AsyncBuffer = {
      byteLength: size,
      slice(start, end = size) {
        read += end - start;
        const out = new Uint8Array(end - start);
        if (end === size) out.set(tail, out.length - 8);
        return out.buffer;
      },
    };
    await expect(readSummary(huge)).rejects.toThrow(/footer is too large to preview/);
    expect(read).toBe(64 * 1024);
  });
});

describe("readFirstRows", () => {
  it("reads the first rows as cells (snappy, both row groups)", async () => {
    const file = memoryFile(PARQUET_FIXTURE);
    const rows = await readFirstRows(file, await readSummary(memoryFile(PARQUET_FIXTURE)));
    expect(texts(rows)).toEqual([
      ["1", "a", "0.5", "2026-01-01 00:00:00Z", "1.25", '["x"]'],
      ["2", "b", "1.5", "2026-01-02 00:00:00Z", "1.25", '["y","z"]'],
      ["3", "null", "2.5", "2026-01-03 00:00:00Z", "1.25", "[]"],
      ["4", "d", "null", "2026-01-04 00:00:00Z", "1.25", "null"],
      ["5", "e", "4.5", "2026-01-05 00:00:00Z", "1.25", '["w"]'],
    ]);
    expect(rows[2]?.[1]?.kind).toBe("null");
    expect(file.read).toBeLessThan(PARQUET_FIXTURE.length);
  });

  it("reads 50 rows of the first 50 columns of a zstd and gzip file", async () => {
    const s = await readSummary(memoryFile(PARQUET_FIXTURE_WIDE));
    expect(s.rows).toBe(60n);
    expect(s.shown).toHaveLength(50);
    expect(s.hidden).toBe(2);
    expect(s.rowEnd).toBe(50);
    expect([...s.codecs].sort()).toEqual(["GZIP", "ZSTD"]);
    expect(s.shown.slice(0, 7)).toEqual([
      { name: "id", type: "" },
      { name: "flag", type: "" },
      { name: "day", type: "DATE" },
      { name: "at", type: "TIMESTAMP(µs, UTC)" },
      { name: "label", type: "STRING" },
      { name: "meta", type: "" },
      { name: "blob", type: "" },
    ]);
    const file = memoryFile(PARQUET_FIXTURE_WIDE);
    const rows = await readFirstRows(file, s);
    expect(rows).toHaveLength(50);
    expect(rows[0]).toHaveLength(50);
    expect(texts(rows)[0]?.slice(0, 8)).toEqual(["1152921504606846977", "true", "2026-03-01", "2026-03-01 12:30:00Z", `${"long-".repeat(16).slice(0, 79)}…`, '{"a":0,"b":"m0"}', "0x0001ff", "7"]);
    expect(rows[0]?.[4]?.full).toBe("long-".repeat(60));
    expect(texts(rows)[2]?.slice(0, 5)).toEqual(["3", "null", "2026-03-03", "2026-03-01 14:30:00Z", "row 2"]);
    expect(texts(rows)[49]?.[49]).toBe("49"); // c49: c50 and c51 are the two not shown
    // Only the shown columns' chunks: the two left out are not read.
    expect(file.read).toBeLessThanOrEqual(s.rowBytes + 50 * 8192);
  });

  it("reads nothing when the first row groups' chunks are over the limit", async () => {
    const s = summarise((await readSummary(memoryFile(PARQUET_FIXTURE))).metadata, 100);
    expect(s.tooLarge).toBe(true);
    expect(s.rowBytes).toBeGreaterThan(100);
    const file = memoryFile(PARQUET_FIXTURE);
    await expect(readFirstRows(file, s)).rejects.toThrow(/too large to preview/);
    expect(file.reads).toBe(0);
  });
});

describe("httpFile", () => {
  const bytes = new Uint8Array(100).map((_, i) => i);
  const server = (status?: number) => {
    const asked: string[] = [];
    const fetchImpl = (async (_url: string, init?: RequestInit) => {
      const range = new Headers(init?.headers).get("range") ?? "";
      asked.push(range);
      if (status === 404) return new Response(JSON.stringify({ error: "no such artefact" }), { status: 404 });
      if (status === 200) return new Response(bytes, { status: 200 });
      const [, a, b] = /bytes=(\d+)-(\d+)/.exec(range) ?? [];
      return new Response(bytes.slice(Number(a), Number(b) + 1), { status: 206 });
    }) as typeof fetch;
    return { asked, fetchImpl };
  };

  it("asks for each slice with one Range request", async () => {
    const { asked, fetchImpl } = server();
    const file = httpFile("/f", 100, undefined, fetchImpl);
    expect([...new Uint8Array(await file.slice(90, 100))]).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    expect((await file.slice(5, 5)).byteLength).toBe(0);
    expect(asked).toEqual(["bytes=90-99"]);
  });

  it("refuses the whole file for a part of it, and says what an error status means", async () => {
    await expect(httpFile("/f", 100, undefined, server(200).fetchImpl).slice(10, 20)).rejects.toThrow(/whole file/);
    expect((await httpFile("/f", 100, undefined, server(200).fetchImpl).slice(0, 100)).byteLength).toBe(100);
    const error = await Promise.resolve(httpFile("/f", 100, undefined, server(404).fetchImpl).slice(0, 10)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(404);
    expect((error as HttpStatusError).message).toBe("HTTP 404 reading bytes 0-9: no such artefact");
  });
});

describe("cellOf", () => {
  it("shows each kind of value", () => {
    expect(cellOf(null)).toEqual({ text: "null", kind: "null" });
    expect(cellOf(2n ** 64n)).toEqual({ text: "18446744073709551616", kind: "number" });
    expect(cellOf(new TextEncoder().encode("plain text"))).toEqual({ text: "plain text", kind: "text" });
    expect(cellOf(new Uint8Array([0, 1, 255]))).toEqual({ text: "0x0001ff", kind: "bytes" });
    expect(cellOf(false)).toEqual({ text: "false", kind: "bool" });
    expect(cellOf(new Date(Number.NaN))).toEqual({ text: "invalid date", kind: "time" });
    expect(cellOf(new Date("2026-01-02T03:04:05.678Z"))).toEqual({ text: "2026-01-02 03:04:05.678Z", kind: "time" });
    expect(cellOf({ n: 2n ** 60n, b: new Uint8Array([1]), at: new Date(0) })).toEqual({
      text: '{"n":"1152921504606846976","b":"0x01","at":"1970-01-01T00:00:00.000Z"}',
      kind: "nested",
    });
    const long = cellOf("x".repeat(5000));
    expect(long.text).toHaveLength(80);
    expect(long.full).toHaveLength(4097);
  });
});
