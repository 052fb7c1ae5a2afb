/** Projects: every project of the organisation, by name, a page at a time. */
import { useQuery } from "@connectrpc/connect-query";
import { ProjectService } from "@gen/traintrack/v1/experiment_pb.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { Link, path } from "../../router.js";
import { FirstRunSnippet } from "./empty-runs.js";
import "./runs.css";

export function ProjectsPage() {
  const pageToken = usePageToken();
  const query = useQuery(ProjectService.method.listProjects, { pageSize: PAGE_SIZE, pageToken });
  return (
    <section>
      <div className="page-head">
        <h1>Projects</h1>
      </div>
      <Loaded query={query} what="list the projects">
        {(data) =>
          data.projects.length === 0 && !pageToken ? (
            <Empty title="No projects yet.">
              A project appears with its first run. Log one from Python:
              <FirstRunSnippet />
            </Empty>
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Project</th>
                    <th>Created</th>
                    <th>Description</th>
                  </tr>
                </thead>
                <tbody>
                  {data.projects.map((p) => (
                    <tr key={p.name}>
                      <td>
                        <Link to={path`/projects/${p.name}`}>{p.name}</Link>
                      </td>
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
