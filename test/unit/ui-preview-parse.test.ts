/** The datasets page's preview: rows of a CSV prefix and lines of text, never a row cut in half. */
import { describe, expect, it } from "vitest";
import { firstLines, looksBinary, parseDelimited, prefixText, previewKind } from "../../ui/src/pages/datasets/preview-parse.js";

describe("parseDelimited", () => {
  it("reads quoted fields with delimiters, quotes and line breaks", () => {
    const text = 'id,text\n1,"a, b"\n2,"say ""hi"""\r\n3,"two\nlines"\n';
    expect(parseDelimited(text, ",", 10, true)).toEqual([["id", "text"], ["1", "a, b"], ["2", 'say "hi"'], ["3", "two\nlines"]]);
  });
  it("drops a record the prefix cuts, keeps the last one of a whole file", () => {
    expect(parseDelimited("a,b\n1,2\n3,", ",", 10, false)).toEqual([["a", "b"], ["1", "2"]]);
    expect(parseDelimited('a,b\n1,"open\n', ",", 10, false)).toEqual([["a", "b"]]);
    expect(parseDelimited("a,b\n1,2", ",", 10, true)).toEqual([["a", "b"], ["1", "2"]]);
  });
  it("stops at max records and reads tabs", () => {
    expect(parseDelimited("a\tb\n1\t2\n3\t4\n", "\t", 2, true)).toEqual([["a", "b"], ["1", "2"]]);
  });
});

describe("text", () => {
  it("drops a partial last line of a prefix", () => {
    const bytes = new TextEncoder().encode("one\ntwo\nthr");
    expect(prefixText(bytes, false)).toBe("one\ntwo\n");
    expect(firstLines(prefixText(bytes, true), 10)).toEqual(["one", "two", "thr"]);
    expect(firstLines("a\nb\nc\n", 2)).toEqual(["a", "b"]);
  });
  it("tells binary from text and kinds from names", () => {
    expect(looksBinary(new Uint8Array([1, 2, 0, 3]))).toBe(true);
    expect(looksBinary(new TextEncoder().encode("plain"))).toBe(false);
    expect(previewKind("a/b.CSV", "")).toBe("csv");
    expect(previewKind("x.parquet", "")).toBe("parquet");
    expect(previewKind("notes", "text/plain")).toBe("text");
    expect(previewKind("w.bin", "application/octet-stream")).toBe("binary");
  });
});
