/** Which bytes a Range header asks for, and the name a download is saved under. */
import { describe, expect, it } from "vitest";
import { contentDisposition, namesEtag, requestedSpan } from "../../src/wire/downloads/http-file.js";

describe("requestedSpan", () => {
  it.each([
    [undefined, 100, undefined],
    ["bytes=0-9", 100, { start: 0, end: 9 }],
    ["bytes=90-", 100, { start: 90, end: 99 }],
    ["bytes=90-1000", 100, { start: 90, end: 99 }],
    ["bytes=-10", 100, { start: 90, end: 99 }],
    ["bytes=-1000", 100, { start: 0, end: 99 }],
    ["bytes=100-", 100, "unsatisfiable"],
    ["bytes=-0", 100, "unsatisfiable"],
    ["bytes=0-", 0, "unsatisfiable"],
    ["bytes=9-3", 100, undefined],
    ["bytes=0-1,5-6", 100, undefined],
    ["items=0-1", 100, undefined],
    ["bytes=-", 100, undefined],
  ] as const)("%s of %d bytes", (header, size, want) => {
    expect(requestedSpan(header, size)).toEqual(want);
  });
});

describe("contentDisposition", () => {
  it("keeps plain names and encodes the others", () => {
    expect(contentDisposition("train/part-0.csv")).toBe(`attachment; filename="part-0.csv"; filename*=UTF-8''part-0.csv`);
    expect(contentDisposition('a/"x"\r\n.txt')).toBe(`attachment; filename="_x___.txt"; filename*=UTF-8''%22x%22%0D%0A.txt`);
    expect(contentDisposition("daten/größe (1).csv")).toBe(`attachment; filename="gr__e (1).csv"; filename*=UTF-8''gr%C3%B6%C3%9Fe%20%281%29.csv`);
  });
});

describe("namesEtag", () => {
  it("matches a list, weak tags and *", () => {
    expect(namesEtag('"a", W/"b"', '"b"')).toBe(true);
    expect(namesEtag("*", '"b"')).toBe(true);
    expect(namesEtag('"a"', '"b"')).toBe(false);
    expect(namesEtag(undefined, '"b"')).toBe(false);
  });
});
