/** A pipeline: what it is, and its runs, newest first (status, trigger, start and end, steps by status). */
import { useQuery } from "@connectrpc/connect-query";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type PipelineRun, PipelineService } from "@gen/traintrack/v1/pipeline_pb.js";
import { Empty, ErrorBox, Loaded } from "../../components/feedback.js";
import { formatDuration, formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { Link, path } from "../../router.js";
import { RunStatusBadge, countsText } from "./status.js";
import "./pipelines.css";

export function PipelinePage({ name }: { name: string }) {
  const pipeline = useQuery(PipelineService.method.getPipeline, { name });
  const pageToken = usePageToken();
  const runs = useQuery(PipelineService.method.listPipelineRuns, { pipeline: name, pageSize: PAGE_SIZE, pageToken });
  const p = pipeline.data?.pipeline;
  return (
    <section>
      <div className="crumbs">
        <Link to="/pipelines">Pipelines</Link> /
      </div>
      <div className="page-head">
        <h1>{name}</h1>
        {p?.project ? <span className="muted">project {p.project}</span> : null}
        {p?.namespace ? <span className="muted">namespace {p.namespace}</span> : null}
      </div>
      {pipeline.error ? <ErrorBox error={pipeline.error} what={`load pipeline "${name}"`} /> : null}
      {p?.description ? <p>{p.description}</p> : null}
      <h2>Runs</h2>
      <Loaded query={runs} what="list the pipeline's runs">
        {(data) =>
          data.runs.length === 0 ? (
            <Empty title="This pipeline has not run yet.">
              Start a run from Python: <code>with client.pipelines.get_or_create("{name}").run() as prun: …</code>
            </Empty>
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Run</th>
                    <th>Status</th>
                    <th>Trigger</th>
                    <th>Started</th>
                    <th>Ended</th>
                    <th>Duration</th>
                    <th>Steps</th>
                  </tr>
                </thead>
                <tbody>
                  {data.runs.map((r) => (
                    <tr key={r.id} data-run-id={r.id}>
                      <td>
                        <Link to={path`/pipeline-runs/${r.id}`}>
                          <code>{r.id}</code>
                        </Link>
                      </td>
                      <td>
                        <RunStatusBadge status={r.status} />
                      </td>
                      <td>{r.trigger}</td>
                      <td>{formatTime(r.startTime)}</td>
                      <td>{formatTime(r.endTime)}</td>
                      <td className="num">{runDuration(r)}</td>
                      <td className="muted">{countsText(r.stepCounts)}</td>
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

function runDuration(r: PipelineRun): string {
  if (!r.startTime) return "";
  const end = r.endTime ? timestampMs(r.endTime) : Date.now();
  return formatDuration(end - timestampMs(r.startTime));
}
