/** A run's artefacts (models, checkpoints, reports), paged by the server's tokens kept in the URL (?artefacts=…). */
import { useQuery } from "@connectrpc/connect-query";
import { RunArtefactService } from "@gen/traintrack/v1/run_artefact_pb.js";
import { runArtefactUrl } from "../../api/downloads.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatBytes } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";

const PARAM = "artefacts";

export function RunArtefacts({ runId }: { runId: string }) {
  const pageToken = usePageToken(PARAM);
  const query = useQuery(RunArtefactService.method.listRunArtefacts, { runId, pageSize: PAGE_SIZE, pageToken });
  return (
    <Loaded query={query} what="list the run's artefacts">
      {(data) =>
        data.artefacts.length === 0 && !pageToken ? (
          <Empty title="This run has no artefacts.">
            Log one from Python: <code>run.log_artefact("model.pt")</code>
          </Empty>
        ) : (
          <>
            <table className="grid">
              <thead>
                <tr>
                  <th>Path</th>
                  <th className="num">Size</th>
                  <th>Type</th>
                  <th>sha256</th>
                </tr>
              </thead>
              <tbody>
                {data.artefacts.map((a) => (
                  <tr key={a.path}>
                    <td>
                      <a href={runArtefactUrl(runId, a.path)} download title="Download">
                        <code>{a.path}</code>
                      </a>
                    </td>
                    <td className="num">{formatBytes(a.size)}</td>
                    <td className="muted">{a.mediaType}</td>
                    <td className="muted">
                      <code title={a.sha256}>{a.sha256.slice(0, 12)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager nextPageToken={data.nextPageToken} param={PARAM} />
          </>
        )
      }
    </Loaded>
  );
}
