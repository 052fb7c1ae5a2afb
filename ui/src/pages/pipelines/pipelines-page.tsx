/** Pipelines: every pipeline of the organisation (optionally of one project), by name. */
import { useQuery } from "@connectrpc/connect-query";
import { PipelineService } from "@gen/traintrack/v1/pipeline_pb.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, SearchBox, usePageToken } from "../../components/pager.js";
import { Link, path, useLocation } from "../../router.js";
import "./pipelines.css";

const FIRST_PIPELINE = `pipe = client.pipelines.get_or_create("nightly-churn", project="churn")
with pipe.run() as prun:
    with prun.step("extract"): ...
    with prun.step("train", after=["extract"], run=True) as s: s.run.log({"auc": 0.93})`;

export function PipelinesPage() {
  const project = useLocation().query.get("project") ?? "";
  const pageToken = usePageToken();
  const query = useQuery(PipelineService.method.listPipelines, { project, pageSize: PAGE_SIZE, pageToken });
  return (
    <section>
      <div className="page-head">
        <h1>Pipelines</h1>
        <SearchBox placeholder="Project (exact name)…" param="project" />
      </div>
      <Loaded query={query} what="list pipelines">
        {(data) =>
          data.pipelines.length === 0 ? (
            project ? (
              <Empty title={`No pipelines in project "${project}".`} />
            ) : (
              <Empty title="No pipelines yet.">
                Record one from Python, or send OpenLineage events to <code>POST /api/v1/lineage</code>:
                <pre className="code">{FIRST_PIPELINE}</pre>
              </Empty>
            )
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Project</th>
                    <th>Namespace</th>
                    <th>Created</th>
                    <th>Description</th>
                  </tr>
                </thead>
                <tbody>
                  {data.pipelines.map((p) => (
                    <tr key={p.name}>
                      <td>
                        <Link to={path`/pipelines/${p.name}`}>{p.name}</Link>
                      </td>
                      <td>{p.project}</td>
                      <td className="muted">{p.namespace}</td>
                      <td>{formatTime(p.createdAt)}</td>
                      <td className="muted">{p.description}</td>
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
