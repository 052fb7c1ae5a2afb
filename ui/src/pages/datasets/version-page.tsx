/**
 * A dataset version: what it is (metadata, description, size), where it came
 * from and what was made from it (one generation each way, and a link to the
 * full lineage graph), its artefacts in pages, and a preview of one of them.
 */
import { useQuery } from "@connectrpc/connect-query";
import { type DatasetVersion, DatasetService } from "@gen/traintrack/v1/dataset_pb.js";
import { Loaded } from "../../components/feedback.js";
import { formatBytes, formatTime } from "../../components/format.js";
import { Link, path } from "../../router.js";
import { ArtefactList } from "./artefact-list.js";
import { Lineage } from "./version-lineage.js";
import "./datasets.css";

export function VersionPage({ name, version }: { name: string; version: string }) {
  const query = useQuery(DatasetService.method.getDataset, { name, version });
  return (
    <section>
      <div className="crumbs">
        <Link to="/datasets">Datasets</Link> / <Link to={path`/datasets/${name}`}>{name}</Link> /
      </div>
      <div className="page-head">
        <h1>
          {name} <span className="muted">{version}</span>
        </h1>
      </div>
      <Loaded query={query} what={`read dataset "${name}" version "${version}"`}>
        {(data) => (data.dataset ? <VersionDetail dataset={data.dataset} /> : null)}
      </Loaded>
    </section>
  );
}

function VersionDetail({ dataset }: { dataset: DatasetVersion }) {
  const metadata = Object.entries(dataset.metadata).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      {dataset.description ? <p className="description">{dataset.description}</p> : null}
      <div className="version-facts">
        <table className="kv" aria-label="Version">
          <tbody>
            <tr>
              <th>Created</th>
              <td>{formatTime(dataset.createdAt)}</td>
            </tr>
            <tr>
              <th>Artefacts</th>
              <td>{dataset.artefactCount.toLocaleString()}</td>
            </tr>
            <tr>
              <th>Total size</th>
              <td>{formatBytes(dataset.totalSize)}</td>
            </tr>
          </tbody>
        </table>
        <div>
          <h2>Metadata</h2>
          {metadata.length === 0 ? (
            <div className="muted">No metadata. Pass metadata={"{…}"} when saving a version to record where the data came from.</div>
          ) : (
            <table className="kv" aria-label="Metadata">
              <tbody>
                {metadata.map(([k, v]) => (
                  <tr key={k}>
                    <th>{k}</th>
                    <td className="metadata-value">{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
      <Lineage dataset={dataset} />
      <ArtefactList name={dataset.name} version={dataset.version} count={dataset.artefactCount} />
    </>
  );
}
