/**
 * A Parquet artefact's preview, through hyparquet: the footer (schema, rows,
 * row groups) and then the first rows of the first columns, read with HTTP
 * Range requests from the plain-HTTP download route. What is read is bounded:
 * the footer to MAX_FOOTER_BYTES, the rows to the column chunks of the row
 * groups that hold them, and not at all when those total more than
 * MAX_ROW_BYTES. This module is loaded on demand (a dynamic import): hyparquet
 * and its decompressors stay out of the UI's first load.
 */
import {
  type AsyncBuffer,
  type CompressionCodec,
  type Compressors,
  type FileMetaData,
  type SchemaElement,
  type SchemaTree,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
} from "hyparquet";

/** Rows and top-level columns a preview shows at most. */
export const MAX_ROWS = 50;
export const MAX_COLUMNS = 50;
/** The compressed column chunks a preview reads at most for its rows. */
export const MAX_ROW_BYTES = 16 * 1024 * 1024;
/** A footer larger than this is not read (a file with very many columns or row groups). */
export const MAX_FOOTER_BYTES = 8 * 1024 * 1024;
/** The first read from the end: the footer of most files, in one request. */
const FOOTER_FETCH = 64 * 1024;
/** Longer values are cut in the table (the whole value is the cell's title, up to MAX_TITLE). */
const MAX_CELL = 80;
const MAX_TITLE = 4096;
/** Codecs hyparquet decodes without hyparquet-compressors. */
const BUILT_IN: ReadonlySet<CompressionCodec> = new Set(["UNCOMPRESSED", "SNAPPY"]);

export interface ParquetColumn {
  /** The leaf's path, dotted (a list's element: "tags.list.element"). */
  path: string;
  physicalType: string;
  logicalType: string;
  repetition: string;
}

export interface ParquetSummary {
  metadata: FileMetaData;
  rows: bigint;
  rowGroups: number;
  createdBy: string;
  /** Every leaf column of the schema. */
  columns: ParquetColumn[];
  /** The top-level columns the rows show (the first MAX_COLUMNS), with their type. */
  shown: { name: string; type: string }[];
  /** Top-level columns left out of the rows. */
  hidden: number;
  /** Rows the preview reads: min(MAX_ROWS, rows). */
  rowEnd: number;
  /** The compressed bytes of the shown columns' chunks in the row groups holding those rows. */
  rowBytes: number;
  /** The row groups holding those rows. */
  rowGroupsRead: number;
  codecs: CompressionCodec[];
  /** The most rowBytes may be; more: `tooLarge`, the rows are not read. */
  rowBytesLimit: number;
  tooLarge: boolean;
}

/** One value as the table shows it: `text` (cut), `full` when cut, and its kind (for alignment and nulls). */
export interface Cell {
  text: string;
  full?: string;
  kind: "null" | "number" | "text" | "bool" | "time" | "bytes" | "nested";
}

/**
 * An AsyncBuffer that refuses to read more than `limit` bytes in all: the
 * bounds above hold whatever hyparquet asks for. `read` counts what was read.
 */
export class BoundedFile implements AsyncBuffer {
  read = 0;
  constructor(
    private readonly file: AsyncBuffer,
    private readonly limit: number,
    private readonly what: string,
  ) {}
  get byteLength() {
    return this.file.byteLength;
  }
  async slice(start: number, end = this.byteLength): Promise<ArrayBuffer> {
    if (this.read + (end - start) > this.limit) throw new Error(`${this.what}: the preview reads at most ${formatMiB(this.limit)}`);
    this.read += end - start;
    return this.file.slice(start, end);
  }
}

/** An error status of the download route (the page turns it into a ConnectError, for ErrorBox's advice). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A file of `size` bytes at `url`, each slice one `Range: bytes=a-b` request (same origin: the session cookie goes along). */
export function httpFile(url: string, size: number, signal?: AbortSignal, fetchImpl: typeof fetch = fetch): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      if (end <= start) return new ArrayBuffer(0);
      const res = await fetchImpl(url, { headers: { range: `bytes=${start}-${end - 1}` }, credentials: "same-origin", signal });
      if (!res.ok) {
        const body = await res.text().catch(() => "");
        let message = body.slice(0, 300);
        try {
          message = (JSON.parse(body) as { error?: string }).error ?? message;
        } catch {}
        throw new HttpStatusError(res.status, `HTTP ${res.status} reading bytes ${start}-${end - 1}${message ? `: ${message}` : ""}`);
      }
      // A 200 is the whole file: only what was asked for when that is the whole file.
      if (res.status !== 206 && !(start === 0 && end === size)) {
        await res.body?.cancel();
        throw new Error(`the server sent the whole file instead of bytes ${start}-${end - 1}`);
      }
      const bytes = await res.arrayBuffer();
      if (bytes.byteLength !== end - start) throw new Error(`asked for ${end - start} bytes from ${start}, got ${bytes.byteLength}`);
      return bytes;
    },
  };
}

/** The footer: schema, rows, row groups, and what reading the first rows would take. */
export async function readSummary(file: AsyncBuffer): Promise<ParquetSummary> {
  if (file.byteLength < 12) throw new Error("the file is too short to be Parquet");
  const footer = new BoundedFile(file, MAX_FOOTER_BYTES + FOOTER_FETCH, "its footer is too large to preview");
  const metadata = await parquetMetadataAsync(footer, { initialFetchSize: Math.min(FOOTER_FETCH, file.byteLength) });
  return summarise(metadata);
}

/** What the footer says, and the plan for the first rows (exported for tests: the size check on any metadata). */
export function summarise(metadata: FileMetaData, maxRowBytes = MAX_ROW_BYTES): ParquetSummary {
  const tree = parquetSchema(metadata);
  const columns: ParquetColumn[] = [];
  const walk = (node: SchemaTree) => {
    if (node.children.length === 0) columns.push(columnOf(node.path.join("."), node.element));
    for (const child of node.children) walk(child);
  };
  for (const child of tree.children) walk(child);
  const top = tree.children;
  const shown = top.slice(0, MAX_COLUMNS);
  const names = new Set(shown.map((c) => c.element.name));
  const rowEnd = Math.min(MAX_ROWS, Number(metadata.num_rows));
  let rowBytes = 0;
  let rowGroupsRead = 0;
  const codecs = new Set<CompressionCodec>();
  for (let group = 0, start = 0; group < metadata.row_groups.length && start < rowEnd; group++) {
    const rowGroup = metadata.row_groups[group]!;
    rowGroupsRead++;
    start += Number(rowGroup.num_rows);
    for (const chunk of rowGroup.columns) {
      const meta = chunk.meta_data;
      if (!meta || !names.has(meta.path_in_schema[0] ?? "")) continue;
      rowBytes += Number(meta.total_compressed_size);
      codecs.add(meta.codec);
    }
  }
  return {
    metadata,
    rows: metadata.num_rows,
    rowGroups: metadata.row_groups.length,
    createdBy: metadata.created_by ?? "",
    columns,
    shown: shown.map((c) => ({ name: c.element.name, type: typeOf(c.element) })),
    hidden: top.length - shown.length,
    rowEnd,
    rowBytes,
    rowGroupsRead,
    codecs: [...codecs],
    rowBytesLimit: maxRowBytes,
    tooLarge: rowBytes > maxRowBytes,
  };
}

/** The first rows (summary.rowEnd) of the shown columns, as cells. */
export async function readFirstRows(file: AsyncBuffer, summary: ParquetSummary): Promise<Cell[][]> {
  if (summary.tooLarge) throw new Error(`the first rows' column chunks are ${formatMiB(summary.rowBytes)}: too large to preview`);
  if (summary.rowEnd === 0 || summary.shown.length === 0) return [];
  const compressors: Compressors | undefined = summary.codecs.every((c) => BUILT_IN.has(c)) ? undefined : (await import("./parquet-codecs.js")).compressors;
  // hyparquet fetches each chunk once, joining chunks across small gaps (up to 8 KiB each).
  const chunks = summary.rowGroupsRead * summary.shown.length;
  const rows = new BoundedFile(file, summary.rowBytes + chunks * 8192 + FOOTER_FETCH, "its first rows take more bytes than planned");
  const names = summary.shown.map((c) => c.name);
  const objects = await parquetReadObjects({ file: rows, metadata: summary.metadata, columns: names, rowStart: 0, rowEnd: summary.rowEnd, compressors, utf8: false });
  const dateOnly = names.map((n) => summary.shown.find((c) => c.name === n)?.type === "DATE");
  return objects.map((row) => names.map((n, i) => cellOf(row[n], dateOnly[i])));
}

function columnOf(path: string, e: SchemaElement): ParquetColumn {
  return { path, physicalType: e.type ?? "", logicalType: typeOf(e), repetition: (e.repetition_type ?? "REQUIRED").toLowerCase() };
}

const UNITS = { MILLIS: "ms", MICROS: "µs", NANOS: "ns" } as const;

/** A column's logical type as a short label: DECIMAL(10, 2), TIMESTAMP(ms, UTC), INT16, STRING … ("" for none). */
export function typeOf(e: SchemaElement): string {
  const t = e.logical_type;
  if (t) {
    switch (t.type) {
      case "DECIMAL":
        return `DECIMAL(${t.precision}, ${t.scale})`;
      case "TIMESTAMP":
      case "TIME":
        return `${t.type}(${UNITS[t.unit]}${t.isAdjustedToUTC ? ", UTC" : ""})`;
      case "INTEGER":
        return `${t.isSigned ? "INT" : "UINT"}${t.bitWidth}`;
      default:
        return t.type;
    }
  }
  return e.converted_type ?? "";
}

const hex = (b: Uint8Array) => `0x${Array.from(b.subarray(0, MAX_TITLE / 2), (x) => x.toString(16).padStart(2, "0")).join("")}${b.length > MAX_TITLE / 2 ? "…" : ""}`;

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function printable(bytes: Uint8Array): string | undefined {
  try {
    const text = UTF8.decode(bytes);
    return /[\u0000-\u0008\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

function timeText(d: Date, dateOnly: boolean): string {
  if (Number.isNaN(d.getTime())) return "invalid date";
  const iso = d.toISOString();
  return dateOnly ? iso.slice(0, 10) : iso.replace("T", " ").replace(".000Z", "Z");
}

/** A value as the table shows it: nested values as short JSON, long values cut. */
export function cellOf(value: unknown, dateOnly = false): Cell {
  if (value === null || value === undefined) return { text: "null", kind: "null" };
  if (typeof value === "number" || typeof value === "bigint") return { text: String(value), kind: "number" };
  if (typeof value === "boolean") return { text: String(value), kind: "bool" };
  if (value instanceof Date) return { text: timeText(value, dateOnly), kind: "time" };
  if (typeof value === "string") return cut(value, "text");
  // Binary without a STRING annotation (utf8: false): as text when it is printable UTF-8, else as hex.
  if (value instanceof Uint8Array) {
    const text = printable(value);
    return text === undefined ? cut(hex(value), "bytes") : cut(text, "text");
  }
  return cut(json(value), "nested");
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (v instanceof Uint8Array) return hex(v);
      return v;
    });
  } catch {
    return String(value);
  }
}

function cut(text: string, kind: Cell["kind"]): Cell {
  if (text.length <= MAX_CELL) return { text, kind };
  return { text: `${text.slice(0, MAX_CELL - 1)}…`, full: text.length > MAX_TITLE ? `${text.slice(0, MAX_TITLE)}…` : text, kind };
}

export function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
