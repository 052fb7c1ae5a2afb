/** The Parquet preview's footer reader against a file written by pyarrow, and against files that are not Parquet. */
import { describe, expect, it } from "vitest";
import { footerLength, parseFooter } from "../../ui/src/pages/datasets/parquet-footer.js";
import { PARQUET_FIXTURE } from "../support/parquet-fixture.js";

describe("parseFooter", () => {
  it("reads the columns, rows, row groups and writer", () => {
    const file = new Uint8Array(PARQUET_FIXTURE);
    const length = footerLength(file.subarray(file.length - 8));
    const summary = parseFooter(file.subarray(file.length - 8 - length, file.length - 8));
    expect(summary.rows).toBe(5n);
    expect(summary.rowGroups).toBe(2);
    expect(summary.createdBy).toMatch(/^parquet-cpp-arrow version 26/);
    expect(summary.columns).toEqual([
      { path: "id", physicalType: "INT64", logicalType: "", repetition: "optional" },
      { path: "name", physicalType: "BYTE_ARRAY", logicalType: "STRING", repetition: "optional" },
      { path: "score", physicalType: "DOUBLE", logicalType: "", repetition: "optional" },
      { path: "at", physicalType: "INT64", logicalType: "TIMESTAMP(ms, UTC)", repetition: "optional" },
      { path: "price", physicalType: "FIXED_LEN_BYTE_ARRAY", logicalType: "DECIMAL(10, 2)", repetition: "optional" },
      { path: "tags.list.element", physicalType: "BYTE_ARRAY", logicalType: "STRING", repetition: "optional" },
    ]);
  });

  it("refuses what is not a Parquet footer", () => {
    expect(() => footerLength(new TextEncoder().encode("id,name\n"))).toThrow(/PAR1/);
    const file = new Uint8Array(PARQUET_FIXTURE);
    const length = footerLength(file.subarray(file.length - 8));
    // Cut short, or garbage: an error, never a hang or a stack overflow.
    expect(() => parseFooter(file.subarray(file.length - 8 - length, file.length - 8 - length / 2))).toThrow();
    expect(() => parseFooter(new Uint8Array(1000).fill(0xfc))).toThrow();
  });
});
