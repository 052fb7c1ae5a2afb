/** Datasets: every dataset of the organisation, searchable by name prefix, newest version first. */
import { useQuery } from "@connectrpc/connect-query";
import { DatasetService } from "@gen/traintrack/v1/dataset_pb.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, SearchBox, usePageToken } from "../../components/pager.js";
import { Link, path, useLocation } from "../../router.js";

export function DatasetsPage() {
  const namePrefix = useLocation().query.get("q") ?? "";
  const pageToken = usePageToken();
  const query = useQuery(DatasetService.method.listDatasets, { namePrefix, pageSize: PAGE_SIZE, pageToken });
  return (
    <section>
      <div className="page-head">
        <h1>Datasets</h1>
        <SearchBox placeholder="Name starts with…" />
      </div>
      <Loaded query={query} what="list datasets">
        {(data) =>
          data.datasets.length === 0 ? (
            namePrefix ? (
              <Empty title={`No dataset's name starts with "${namePrefix}".`} />
            ) : (
              <Empty title="No datasets yet.">
                Save one from Python: <code>client.datasets.save("customer_churn", "1.0.0", files=["churn.csv"])</code>
              </Empty>
            )
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Latest version</th>
                    <th>Versions</th>
                    <th>Updated</th>
                    <th>Description</th>
                  </tr>
                </thead>
                <tbody>
                  {data.datasets.map((d) => (
                    <tr key={d.name}>
                      <td>
                        <Link to={path`/datasets/${d.name}`}>{d.name}</Link>
                      </td>
                      <td>
                        <Link to={path`/datasets/${d.name}/${d.latestVersion}`}>{d.latestVersion}</Link>
                      </td>
                      <td className="num">{d.versionCount}</td>
                      <td>{formatTime(d.updatedAt)}</td>
                      <td className="muted">{d.description}</td>
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
