import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/services/errors.js";
import { isWellFormedId, newId } from "../../src/services/ids.js";
import * as f from "../../src/wire/validate/fields.js";

const rejects = (fn: () => unknown, message: RegExp) => {
  expect(fn).toThrow(InvalidInputError);
  expect(fn).toThrow(message);
};

describe("artefact paths", () => {
  it("accepts plain relative paths and empty (the upload's file name)", () => {
    expect(f.artefactPath("path", "train/part-0.parquet")).toBe("train/part-0.parquet");
    expect(f.artefactPath("path", "")).toBe("");
    expect(f.artefactPath("path", "données/été.csv")).toBe("données/été.csv");
  });

  it.each([
    ["../etc/passwd", /"\." or "\.\."/],
    ["a/../../b", /"\." or "\.\."/],
    ["./a", /"\." or "\.\."/],
    ["a//b", /empty/],
    ["a/", /empty/],
    ["/etc/passwd", /absolute/],
    ["a\u0000b", /control/],
    ["a\nb", /control/],
    ["a\u007fb", /control/],
    ["a\\..\\b", /contains a "\/" or "\\"/],
    ["x".repeat(256), /255/],
    [`${"x/".repeat(600)}x`, /1024/],
  ])("refuses %j", (path, message) => rejects(() => f.artefactPath("path", path), message));
});

describe("names and versions", () => {
  it.each(["customer_churn", "iris-2", "a.b", "A1"])("accepts name %j", (name) => expect(f.datasetName("name", name)).toBe(name));
  it.each(["", "-lead", ".hidden", "a b", "a/b", "naïve", "x".repeat(129), "a\u0000"])("refuses name %j", (name) =>
    expect(() => f.datasetName("name", name)).toThrow(InvalidInputError),
  );
  it.each(["1.0.0", "2024-01-05", "1.0.0+rc.1", "v2"])("accepts version %j", (v) => expect(f.versionString("version", v)).toBe(v));
  it.each(["", " 1", "1 0", "1/0", "x".repeat(65), "+1"])("refuses version %j", (v) =>
    expect(() => f.versionString("version", v)).toThrow(InvalidInputError),
  );
});

describe("other fields", () => {
  it("normalises a sha256 to lowercase and refuses anything else", () => {
    expect(f.optionalSha256("sha256", "AB".repeat(32))).toBe("ab".repeat(32));
    expect(f.optionalSha256("sha256", "")).toBeUndefined();
    rejects(() => f.optionalSha256("sha256", "xyz"), /64 hex digits/);
  });
  it("refuses negative and unsafe int64 values", () => {
    rejects(() => f.count("size", -1n), /negative/);
    rejects(() => f.count("size", 2n ** 60n), /at most/);
    expect(f.count("size", 42n)).toBe(42);
  });
  it("defaults the media type and the page size", () => {
    expect(f.mediaType("media_type", "")).toBe("application/octet-stream");
    expect(f.pageSize("page_size", 0)).toBe(100);
    rejects(() => f.pageSize("page_size", 1001), /between 0 and 1000/);
  });
});

describe("ids", () => {
  it("are prefixed, unique and recognisable", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId("up")));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isWellFormedId("up", id)).toBe(true);
    expect(isWellFormedId("up", "up_../../etc")).toBe(false);
    expect(isWellFormedId("dsv", newId("up"))).toBe(false);
  });
});
