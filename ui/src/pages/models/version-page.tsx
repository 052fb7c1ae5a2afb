/**
 * A model version: what it is (framework, run, aliases, tags, signature),
 * the metrics of the run that made it, its model card (the version's
 * Markdown description), its files (paged by ?files=…) and a link to its
 * lineage graph.
 */
import { useQuery } from "@connectrpc/connect-query";
import { type ModelVersion, ModelService } from "@gen/traintrack/v1/model_pb.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatBytes, formatTime } from "../../components/format.js";
import { Pager, usePageToken } from "../../components/pager.js";
import { Link, path, useParams } from "../../router.js";
import { lineagePath } from "../lineage/lineage-links.js";
import { modelFileUrl } from "../../api/downloads.js";
import { UserLabel } from "../admin/grants-page.js";
import { Markdown } from "./markdown.js";
import { RunMetricsTable } from "./run-metrics.js";
import "./models.css";

const FILES_PAGE = 100;

export function VersionPage() {
  const { name = "", version = "" } = useParams();
  const number = /^\d{1,18}$/.test(version) ? BigInt(version) : undefined;
  const query = useQuery(
    ModelService.method.getModelVersion,
    // Not a number: an alias ("/models/churn/versions/production" is a link that follows it).
    { model: name, selector: number !== undefined ? { case: "version", value: number } : { case: "alias", value: version } },
  );
  return (
    <section>
      <div className="crumbs">
        <Link to="/models">Models</Link> / <Link to={path`/models/${name}`}>{name}</Link> /
      </div>
      <Loaded query={query} what={`read version ${version} of "${name}"`}>
        {(data) => (data.version ? <VersionView v={data.version} /> : <Empty title="No such version." />)}
      </Loaded>
    </section>
  );
}

function VersionView({ v }: { v: ModelVersion }) {
  return (
    <>
      <div className="page-head">
        <h1>
          {v.model} v{String(v.version)}
        </h1>
        {v.aliases.map((a) => (
          <span key={a} className="chip">
            {a}
          </span>
        ))}
        <Link to={lineagePath({ kind: "model", id: `${v.model}@${v.version}` })} className="lineage-link">
          Lineage graph →
        </Link>
      </div>
      <div className="version-top">
        <table className="kv">
          <tbody>
            <tr>
              <th>Framework</th>
              <td>{v.framework || <span className="muted">not given</span>}</td>
            </tr>
            <tr>
              <th>Made by run</th>
              <td>{v.runId ? <Link to={path`/runs/${v.runId}`}>{v.runId}</Link> : <span className="muted">none named</span>}</td>
            </tr>
            <tr>
              <th>Registered</th>
              <td>
                {formatTime(v.createdAt)} {v.createdBy ? <>by <UserLabel id={v.createdBy} /></> : null}
              </td>
            </tr>
            <tr>
              <th>Files</th>
              <td>
                {v.fileCount} · {formatBytes(v.totalSize)}
              </td>
            </tr>
            {Object.entries(v.tags).map(([k, val]) => (
              <tr key={k}>
                <th>tag {k}</th>
                <td>{val}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div>
          <h2>Metrics of its run</h2>
          <RunMetricsTable runId={v.runId} />
        </div>
      </div>
      <h2>Model card</h2>
      {v.description ? (
        <div className="model-card">
          <Markdown text={v.description} />
        </div>
      ) : (
        <div className="muted">No model card: give the version a Markdown description (what it is for, its data, its limits).</div>
      )}
      {v.signature ? (
        <>
          <h2>Signature</h2>
          <pre className="code">{prettyJson(v.signature)}</pre>
        </>
      ) : null}
      <h2>Files</h2>
      <Files model={v.model} version={v.version} />
    </>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function Files({ model, version }: { model: string; version: bigint }) {
  const pageToken = usePageToken("files");
  const query = useQuery(ModelService.method.listModelFiles, { model, version, pageSize: FILES_PAGE, pageToken });
  return (
    <Loaded query={query} what="list the version's files">
      {(data) =>
        data.files.length === 0 ? (
          <Empty title="This version has no files." />
        ) : (
          <>
            <table className="grid files">
              <thead>
                <tr>
                  <th>Path</th>
                  <th className="num">Size</th>
                  <th>Type</th>
                  <th>SHA-256</th>
                </tr>
              </thead>
              <tbody>
                {data.files.map((f) => (
                  <tr key={f.path} data-file={f.path}>
                    <td>
                      <a href={modelFileUrl(model, version, f.path)} download title="Download">
                        <code>{f.path}</code>
                      </a>
                    </td>
                    <td className="num">{formatBytes(f.size)}</td>
                    <td className="muted">{f.mediaType}</td>
                    <td className="muted small" title={f.sha256}>
                      <code>{f.sha256.slice(0, 16)}…</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager nextPageToken={data.nextPageToken} param="files" />
          </>
        )
      }
    </Loaded>
  );
}
