/**
 * What a preview shows of a file's first bytes: the first rows of a CSV or
 * TSV, the first lines of text. The bytes are a prefix of the file, so the
 * last line is dropped when the prefix ends inside it. Pure: no React.
 */

export type PreviewKind = "csv" | "tsv" | "text" | "parquet" | "binary";

const TEXT_EXTENSIONS = new Set(["txt", "md", "json", "jsonl", "ndjson", "log", "yaml", "yml", "toml", "ini", "cfg", "xml", "html", "py", "sh", "sql", "r", "ts", "js", "tex", "rst", "conf", "properties"]);

/** How to preview an artefact, from its path and media type. */
export function previewKind(path: string, mediaType: string): PreviewKind {
  const name = path.toLowerCase();
  const ext = name.slice(name.lastIndexOf(".") + 1);
  if (ext === "csv" || mediaType === "text/csv") return "csv";
  if (ext === "tsv" || mediaType === "text/tab-separated-values") return "tsv";
  if (ext === "parquet" || mediaType === "application/vnd.apache.parquet") return "parquet";
  if (TEXT_EXTENSIONS.has(ext) || mediaType.startsWith("text/") || mediaType === "application/json") return "text";
  return "binary";
}

/** Bytes that look binary: a NUL in the first 8 KiB (what git and grep use). */
export function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 8192).includes(0);
}

/** The text of a prefix of a file; `complete`: the prefix is the whole file (else a partial last line is dropped). */
export function prefixText(bytes: Uint8Array, complete: boolean): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  if (complete) return text;
  const lastBreak = text.lastIndexOf("\n");
  return lastBreak < 0 ? text : text.slice(0, lastBreak + 1);
}

/** The first `max` lines of `text`. */
export function firstLines(text: string, max: number): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(0, max);
}

/**
 * The first `max` records of delimited text (RFC 4180: quoted fields may hold
 * the delimiter, doubled quotes and line breaks). `complete` false: the text
 * is a prefix, so a record still open at its end (an unclosed quote, or no
 * line break after it) is left out rather than shown cut.
 */
export function parseDelimited(text: string, delimiter: string, max: number, complete: boolean): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    record.push(field);
    records.push(record);
    record = [];
    field = "";
  };
  while (i < text.length && records.length < max) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === "") quoted = true;
    else if (c === delimiter) {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRecord();
    } else field += c;
    i++;
  }
  // The text ended inside a record: whole only when the text is the whole file.
  if (records.length < max && complete && !quoted && (field !== "" || record.length > 0)) endRecord();
  return records;
}
