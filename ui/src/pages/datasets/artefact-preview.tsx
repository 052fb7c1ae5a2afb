/**
 * A preview of one artefact under the artefacts table: the first rows of a
 * CSV or TSV as a table, the first lines of text (of the first 64 KiB), a
 * Parquet file's first rows and schema (parquet-preview.tsx); for other
 * files their size and hash. With the download link.
 */
import { useTransport } from "@connectrpc/connect-query";
import { useQuery } from "@tanstack/react-query";
import type { Artefact } from "@gen/traintrack/v1/dataset_pb.js";
import { useEffect, useRef } from "react";
import { ErrorBox, Pending } from "../../components/feedback.js";
import { formatBytes } from "../../components/format.js";
import { datasetArtefactUrl } from "../../api/downloads.js";
import { ParquetPreview } from "./parquet-preview.js";
import { firstLines, looksBinary, parseDelimited, prefixText, previewKind } from "./preview-parse.js";
import { PREVIEW_BYTES, readPrefix } from "./read-prefix.js";

export const PREVIEW_ROWS = 50;
const PREVIEW_LINES = 200;

export function ArtefactPreview({ name, version, artefact, bringIntoView = false }: { name: string; version: string; artefact: Artefact; bringIntoView?: boolean }) {
  const kind = previewKind(artefact.path, artefact.mediaType);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (bringIntoView) ref.current?.scrollIntoView({ block: "start" });
  }, [bringIntoView]);
  return (
    <section ref={ref} className="preview" aria-label={`Preview of ${artefact.path}`}>
      <div className="preview-head">
        <h2>{artefact.path}</h2>
        <span className="muted">
          {formatBytes(artefact.size)} · {artefact.mediaType || "unknown type"}
        </span>
        <a href={datasetArtefactUrl(name, version, artefact.path)} download>
          Download
        </a>
      </div>
      {kind === "parquet" ? (
        <ParquetPreview name={name} version={version} artefact={artefact} />
      ) : kind === "binary" ? (
        <FileFacts artefact={artefact} why="A binary file: there is nothing to preview as text." />
      ) : (
        <TextPreview name={name} version={version} artefact={artefact} kind={kind} />
      )}
    </section>
  );
}

function FileFacts({ artefact, why }: { artefact: Artefact; why: string }) {
  return (
    <div className="notice">
      <div>{why}</div>
      <table className="kv">
        <tbody>
          <tr>
            <th>Size</th>
            <td>
              {formatBytes(artefact.size)} ({artefact.size.toLocaleString()} bytes)
            </td>
          </tr>
          <tr>
            <th>SHA-256</th>
            <td>
              <code>{artefact.sha256}</code>
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function TextPreview({ name, version, artefact, kind }: { name: string; version: string; artefact: Artefact; kind: "csv" | "tsv" | "text" }) {
  const transport = useTransport();
  const prefix = useQuery({
    queryKey: ["artefact-prefix", name, version, artefact.path, artefact.sha256],
    queryFn: ({ signal }) => readPrefix(transport, { name, version, path: artefact.path }, PREVIEW_BYTES, signal),
    // The bytes of a committed version never change.
    staleTime: Number.POSITIVE_INFINITY,
  });
  if (prefix.error) return <ErrorBox error={prefix.error} what={`read the first bytes of ${artefact.path}`} />;
  if (!prefix.data) return <Pending rows={6} />;
  const { bytes, complete } = prefix.data;
  if (looksBinary(bytes)) return <FileFacts artefact={artefact} why="This file holds binary data: there is nothing to preview as text." />;
  const text = prefixText(bytes, complete);
  const cut = complete ? "" : ` (of the first ${formatBytes(bytes.length)})`;
  if (kind === "text") {
    const lines = firstLines(text, PREVIEW_LINES);
    return (
      <>
        <div className="muted">
          First {lines.length} lines{cut}
        </div>
        <pre className="code preview-text" data-testid="text-preview">
          {lines.join("\n")}
        </pre>
      </>
    );
  }
  // The header row and up to PREVIEW_ROWS rows below it.
  const [header = [], ...rows] = parseDelimited(text, kind === "tsv" ? "\t" : ",", PREVIEW_ROWS + 1, complete);
  return (
    <>
      <div className="muted">
        First {rows.length} rows{cut}
      </div>
      <div className="preview-table">
        <table className="grid" data-testid="csv-preview">
          <thead>
            <tr>
              {header.map((h, i) => (
                <th key={i}>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {r.map((c, j) => (
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
