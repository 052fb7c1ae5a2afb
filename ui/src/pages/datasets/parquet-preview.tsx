/**
 * A Parquet file's preview: its columns and types, rows and row groups, from
 * its footer alone (two small ranged reads from the end, whatever the file's
 * size). Rows themselves need a Parquet decoder (hyparquet; see the report).
 */
import { useTransport } from "@connectrpc/connect-query";
import { useQuery } from "@tanstack/react-query";
import type { Artefact } from "@gen/traintrack/v1/dataset_pb.js";
import { ErrorBox, Pending } from "../../components/feedback.js";
import { MAX_FOOTER_BYTES, type ParquetSummary, footerLength, parseFooter } from "./parquet-footer.js";
import { readRange } from "./read-prefix.js";

export function ParquetPreview({ name, version, artefact }: { name: string; version: string; artefact: Artefact }) {
  const transport = useTransport();
  const size = Number(artefact.size);
  const summary = useQuery({
    queryKey: ["parquet-footer", name, version, artefact.path, artefact.sha256],
    queryFn: async ({ signal }): Promise<ParquetSummary> => {
      const ref = { name, version, path: artefact.path };
      if (size < 12) throw new Error("the file is too short to be Parquet");
      const length = footerLength((await readRange(transport, ref, size - 8, 8, signal)).bytes);
      if (length > MAX_FOOTER_BYTES || length > size - 12) throw new Error(`its footer is ${length} bytes: too large to preview`);
      return parseFooter((await readRange(transport, ref, size - 8 - length, length, signal)).bytes);
    },
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  if (summary.error) return <ErrorBox error={summary.error} what={`read the Parquet footer of ${artefact.path}`} />;
  if (!summary.data) return <Pending rows={4} />;
  const { rows, rowGroups, createdBy, columns } = summary.data;
  return (
    <>
      <div className="muted" data-testid="parquet-summary">
        {rows.toLocaleString()} rows in {rowGroups.toLocaleString()} row group{rowGroups === 1 ? "" : "s"}, {columns.length} columns
        {createdBy ? ` · written by ${createdBy}` : ""}
      </div>
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
            {columns.map((c) => (
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
    </>
  );
}
