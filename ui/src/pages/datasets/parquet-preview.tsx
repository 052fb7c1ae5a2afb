/**
 * A Parquet file's preview: its first rows (up to 50, of the first 50
 * columns) and its schema, read by hyparquet through HTTP Range requests on
 * the download route: the footer first, then the first row groups' column
 * chunks, unless they are too large (then the schema alone). hyparquet is
 * imported on demand, so it is not part of the UI's first load.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { useQuery } from "@tanstack/react-query";
import type { Artefact } from "@gen/traintrack/v1/dataset_pb.js";
import { datasetArtefactUrl } from "../../api/downloads.js";
import { ErrorBox, Pending } from "../../components/feedback.js";
import type { Cell, ParquetSummary } from "./parquet-read.js";

const reader = () => import("./parquet-read.js");

const STATUS_CODES: Record<number, Code> = { 400: Code.InvalidArgument, 401: Code.Unauthenticated, 403: Code.PermissionDenied, 404: Code.NotFound, 416: Code.OutOfRange, 503: Code.Unavailable };

/** The download route's error statuses as ConnectErrors, so that ErrorBox gives its advice (sign in again, ask for access …). */
function connectErrorOf(error: unknown): unknown {
  if (!(error instanceof Error) || !("status" in error) || typeof error.status !== "number") return error;
  return new ConnectError(error.message, STATUS_CODES[error.status] ?? Code.Unknown);
}

export function ParquetPreview({ name, version, artefact }: { name: string; version: string; artefact: Artefact }) {
  const url = datasetArtefactUrl(name, version, artefact.path);
  const size = Number(artefact.size);
  const key = [name, version, artefact.path, artefact.sha256];
  const summary = useQuery({
    queryKey: ["parquet-summary", ...key],
    queryFn: async ({ signal }) => {
      const { httpFile, readSummary } = await reader();
      return readSummary(httpFile(url, size, signal));
    },
    // The bytes of a committed version never change; the metadata is no plain data to compare.
    staleTime: Number.POSITIVE_INFINITY,
    structuralSharing: false,
    retry: false,
  });
  const rows = useQuery({
    queryKey: ["parquet-rows", ...key],
    queryFn: async ({ signal }) => {
      const { httpFile, readFirstRows } = await reader();
      return readFirstRows(httpFile(url, size, signal), summary.data as ParquetSummary);
    },
    enabled: summary.data !== undefined && !summary.data.tooLarge,
    staleTime: Number.POSITIVE_INFINITY,
    structuralSharing: false,
    retry: false,
  });
  if (summary.error) return <ErrorBox error={connectErrorOf(summary.error)} what={`read the Parquet footer of ${artefact.path}`} />;
  if (!summary.data) return <Pending rows={6} />;
  const s = summary.data;
  return (
    <>
      <div className="muted" data-testid="parquet-summary">
        {s.rows.toLocaleString()} rows in {s.rowGroups.toLocaleString()} row group{s.rowGroups === 1 ? "" : "s"}, {s.columns.length} columns
        {s.createdBy ? ` · written by ${s.createdBy}` : ""}
      </div>
      {s.tooLarge ? (
        <div className="notice" data-testid="parquet-too-large">
          The first row group is too large to preview: its {s.shown.length === 1 ? "column" : `${s.shown.length} columns`} hold{s.shown.length === 1 ? "s" : ""}{" "}
          {mib(s.rowBytes)} compressed, and the preview reads at most {mib(s.rowBytesLimit)}.{" "}
          <a href={url} download>Download the file</a> to see its rows.
        </div>
      ) : rows.error ? (
        <ErrorBox error={connectErrorOf(rows.error)} what={`read the first rows of ${artefact.path}`} />
      ) : !rows.data ? (
        <Pending rows={6} />
      ) : (
        <RowsTable summary={s} rows={rows.data} />
      )}
      <details className="parquet-schema" open={s.tooLarge || rows.isError}>
        <summary>Schema: {s.columns.length} columns</summary>
        <div className="preview-table">
          <table className="grid" data-testid="parquet-schema">
            <thead>
              <tr>
                <th>Column</th>
                <th>Type</th>
                <th>Physical type</th>
                <th>Nulls</th>
              </tr>
            </thead>
            <tbody>
              {s.columns.map((c) => (
                <tr key={c.path}>
                  <td>{c.path}</td>
                  <td>{c.logicalType}</td>
                  <td className="muted">{c.physicalType}</td>
                  <td className="muted">{c.repetition}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}

function RowsTable({ summary: s, rows }: { summary: ParquetSummary; rows: Cell[][] }) {
  return (
    <>
      <div className="muted" data-testid="parquet-rows-note">
        {rows.length === 0 ? "No rows" : `First ${rows.length.toLocaleString()} of ${s.rows.toLocaleString()} rows`}
        {s.hidden > 0 ? ` · the first ${s.shown.length} columns (${s.hidden.toLocaleString()} more not shown)` : ""}
      </div>
      <div className="preview-table">
        <table className="grid parquet-rows" data-testid="parquet-rows">
          <thead>
            <tr>
              {s.shown.map((c) => (
                <th key={c.name}>
                  {c.name}
                  {c.type ? <span className="parquet-type">{c.type}</span> : null}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {r.map((c, j) => (
                  <td key={j} className={c.kind === "number" ? "num" : c.kind === "null" ? "muted" : undefined} title={c.full}>
                    {c.text}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
