/** A dataset: its versions, newest first, paged, each with its size, artefacts and parents. */
import { useQuery } from "@connectrpc/connect-query";
import { DatasetService } from "@gen/traintrack/v1/dataset_pb.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatBytes, formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { Link, path } from "../../router.js";
import "./datasets.css";

export function DatasetPage({ name }: { name: string }) {
  const pageToken = usePageToken();
  const query = useQuery(DatasetService.method.listDatasetVersions, { name, pageSize: PAGE_SIZE, pageToken });
  return (
    <section>
      <div className="crumbs">
        <Link to="/datasets">Datasets</Link> /
      </div>
      <div className="page-head">
        <h1>{name}</h1>
      </div>
      <Loaded query={query} what={`list the versions of dataset "${name}"`}>
        {(data) =>
          data.versions.length === 0 ? (
            <Empty title={`Dataset "${name}" has no versions.`}>
              Save one from Python: <code>client.datasets.save("{name}", "1.0.0", files=["data.csv"])</code>
            </Empty>
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Version</th>
                    <th>Created</th>
                    <th className="num">Artefacts</th>
                    <th className="num">Size</th>
                    <th>Derived from</th>
                    <th>Description</th>
                  </tr>
                </thead>
                <tbody>
                  {data.versions.map((v) => (
                    <tr key={v.version}>
                      <td>
                        <Link to={path`/datasets/${v.name}/${v.version}`}>{v.version}</Link>
                      </td>
                      <td>{formatTime(v.createdAt)}</td>
                      <td className="num">{v.artefactCount.toLocaleString()}</td>
                      <td className="num">{formatBytes(v.totalSize)}</td>
                      <td>
                        {v.derivedFrom.slice(0, 3).map((p, i) => (
                          <span key={`${p.name}@${p.version}`}>
                            {i > 0 ? ", " : ""}
                            <Link to={path`/datasets/${p.name}/${p.version}`}>
                              {p.name} {p.version}
                            </Link>
                          </span>
                        ))}
                        {v.derivedFromCount > 3 ? <span className="muted"> and {v.derivedFromCount - 3} more</span> : null}
                      </td>
                      <td className="muted">{v.description}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager nextPageToken={data.nextPageToken} />
            </>
          )
        }
      </Loaded>
    </section>
  );
}
