/**
 * What a Parquet file's footer says without reading its data: the columns
 * (path, physical and logical type, nullability), the number of rows and of
 * row groups, and the writer. The footer is the file's last bytes: 4 bytes of
 * length and "PAR1" at the very end, the Thrift FileMetaData before them.
 */
import { ThriftReader, type ThriftStruct, type ThriftValue } from "./thrift-compact.js";

export interface ParquetColumn {
  path: string;
  physicalType: string;
  logicalType: string;
  repetition: string;
}

export interface ParquetSummary {
  rows: bigint;
  rowGroups: number;
  createdBy: string;
  columns: ParquetColumn[];
}

/** A footer larger than this is not read for a preview (a file with very many columns or row groups). */
export const MAX_FOOTER_BYTES = 8 * 1024 * 1024;

const MAGIC = "PAR1";
const PHYSICAL = ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"];
const REPETITION = ["required", "optional", "repeated"];
const CONVERTED = ["UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE", "TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16", "INT_32", "INT_64", "JSON", "BSON", "INTERVAL"];
/** LogicalType's union members by field id. */
const LOGICAL: Record<number, string> = { 1: "STRING", 2: "MAP", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE", 7: "TIME", 8: "TIMESTAMP", 10: "INTEGER", 11: "NULL", 12: "JSON", 13: "BSON", 14: "UUID", 15: "FLOAT16", 16: "VARIANT", 17: "GEOMETRY", 18: "GEOGRAPHY" };

/** The footer's length from the file's last 8 bytes; throws when they are not a Parquet file's end. */
export function footerLength(tail: Uint8Array): number {
  if (tail.length !== 8 || new TextDecoder().decode(tail.subarray(4)) !== MAGIC) throw new Error("this file does not end as a Parquet file does (no PAR1 at its end)");
  return new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
}

const text = (v: ThriftValue | undefined) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : "");
const int = (v: ThriftValue | undefined) => (typeof v === "bigint" ? Number(v) : undefined);
const struct = (v: ThriftValue | undefined): ThriftStruct | undefined => (v instanceof Map ? v : undefined);
const list = (v: ThriftValue | undefined): ThriftValue[] => (Array.isArray(v) ? v : []);

function logicalOf(element: ThriftStruct): string {
  const logical = struct(element.get(10));
  if (logical) {
    for (const [id, detail] of logical) {
      const name = LOGICAL[id] ?? `logical type ${id}`;
      const d = struct(detail);
      if (id === 5 && d) return `DECIMAL(${int(d.get(2))}, ${int(d.get(1))})`;
      if (id === 8 && d) return `TIMESTAMP(${timeUnit(struct(d.get(2)))}${d.get(1) === true ? ", UTC" : ""})`;
      if (id === 10 && d) return `${d.get(2) === false ? "UINT" : "INT"}${int(d.get(1)) ?? ""}`;
      return name;
    }
  }
  const converted = int(element.get(6));
  return converted === undefined ? "" : (CONVERTED[converted] ?? `converted type ${converted}`);
}

function timeUnit(unit: ThriftStruct | undefined): string {
  if (unit?.has(1)) return "ms";
  if (unit?.has(2)) return "µs";
  if (unit?.has(3)) return "ns";
  return "?";
}

/** The summary of a FileMetaData (the footer's bytes without the last 8). */
export function parseFooter(footer: Uint8Array): ParquetSummary {
  const meta = new ThriftReader(footer).struct();
  const schema = list(meta.get(2)).flatMap((e) => (e instanceof Map ? [e] : []));
  const columns: ParquetColumn[] = [];
  // The schema is a tree written depth first: each group says how many children follow it.
  const walk = (index: number, prefix: string[]): number => {
    const element = schema[index];
    if (!element) throw new Error("the Parquet schema ends early");
    const children = int(element.get(5)) ?? 0;
    const name = text(element.get(4));
    const path = index === 0 ? [] : [...prefix, name];
    let next = index + 1;
    if (children === 0 && index > 0) {
      columns.push({
        path: path.join("."),
        physicalType: PHYSICAL[int(element.get(1)) ?? -1] ?? "",
        logicalType: logicalOf(element),
        repetition: REPETITION[int(element.get(3)) ?? 0] ?? "",
      });
    }
    for (let c = 0; c < children; c++) next = walk(next, path);
    return next;
  };
  if (schema.length > 0) walk(0, []);
  const rows = meta.get(3);
  return { rows: typeof rows === "bigint" ? rows : 0n, rowGroups: list(meta.get(4)).length, createdBy: text(meta.get(6)), columns };
}
