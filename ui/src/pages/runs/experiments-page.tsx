/** A project's experiments, by name, a page at a time; each leads to its runs table. */
import { useQuery } from "@connectrpc/connect-query";
import { ExperimentService, ProjectService } from "@gen/traintrack/v1/experiment_pb.js";
import { Empty, ErrorBox, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { Link, path } from "../../router.js";
import { FirstRunSnippet } from "./empty-runs.js";
import "./runs.css";

export function ExperimentsPage({ project }: { project: string }) {
  const pageToken = usePageToken();
  const info = useQuery(ProjectService.method.getProject, { name: project });
  const query = useQuery(ExperimentService.method.listExperiments, { project, pageSize: PAGE_SIZE, pageToken });
  return (
    <section>
      <div className="crumbs">
        <Link to="/projects">Projects</Link> /
      </div>
      <div className="page-head">
        <h1>{project}</h1>
        {info.data?.project?.description ? <span className="muted">{info.data.project.description}</span> : null}
      </div>
      {info.error ? <ErrorBox error={info.error} what={`open the project "${project}"`} /> : null}
      <Loaded query={query} what="list the experiments">
        {(data) =>
          data.experiments.length === 0 && !pageToken ? (
            <Empty title="No experiments in this project yet.">
              An experiment appears with its first run:
              <FirstRunSnippet project={project} />
            </Empty>
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Experiment</th>
                    <th>Created</th>
                    <th>Description</th>
                  </tr>
                </thead>
                <tbody>
                  {data.experiments.map((e) => (
                    <tr key={e.name}>
                      <td>
                        <Link to={path`/projects/${project}/experiments/${e.name}`}>{e.name}</Link>
                      </td>
                      <td>{formatTime(e.createdAt)}</td>
                      <td className="muted">{e.description}</td>
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
