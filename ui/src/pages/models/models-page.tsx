/** Registered models: every model the principal may read, searchable by name prefix, paged. */
import { useQuery } from "@connectrpc/connect-query";
import { ModelService } from "@gen/traintrack/v1/model_pb.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, SearchBox, usePageToken } from "../../components/pager.js";
import { Link, path, useLocation } from "../../router.js";
import "./models.css";

export function ModelsPage() {
  const namePrefix = useLocation().query.get("q") ?? "";
  const pageToken = usePageToken();
  const query = useQuery(ModelService.method.listRegisteredModels, { namePrefix, pageSize: PAGE_SIZE, pageToken });
  return (
    <section>
      <div className="page-head">
        <h1>Models</h1>
        <SearchBox placeholder="Name starts with…" />
      </div>
      <Loaded query={query} what="list models">
        {(data) =>
          data.models.length === 0 ? (
            namePrefix ? (
              <Empty title={`No model's name starts with "${namePrefix}".`} />
            ) : (
              <Empty title="No models yet.">
                Register one from a run's files in Python: <code>run.log_model("model/", name="churn-xgb", framework="xgboost")</code>
              </Empty>
            )
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Project</th>
                    <th>Latest version</th>
                    <th>Aliases</th>
                    <th>Updated</th>
                    <th>Description</th>
                  </tr>
                </thead>
                <tbody>
                  {data.models.map((m) => (
                    <tr key={m.name} data-model={m.name}>
                      <td>
                        <Link to={path`/models/${m.name}`}>{m.name}</Link>
                      </td>
                      <td>{m.project || <span className="muted">organisation</span>}</td>
                      <td>{m.latestVersion > 0n ? <Link to={path`/models/${m.name}/versions/${String(m.latestVersion)}`}>v{String(m.latestVersion)}</Link> : <span className="muted">none yet</span>}</td>
                      <td>
                        <AliasChips model={m.name} aliases={m.aliases} />
                      </td>
                      <td>{formatTime(m.updatedAt)}</td>
                      <td className="muted">{firstLine(m.description)}</td>
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

export function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.replace(/^#+\s*/, "").slice(0, 160);
}

export function AliasChips({ model, aliases }: { model: string; aliases: { alias: string; version: bigint; protected?: boolean }[] }) {
  return (
    <span className="chips">
      {aliases.map((a) => (
        <Link key={a.alias} to={path`/models/${model}/versions/${String(a.version)}`} className="chip" title={`${a.alias} → v${a.version}${a.protected ? " (protected)" : ""}`}>
          {a.alias}
          <span className="muted"> v{String(a.version)}</span>
        </Link>
      ))}
    </span>
  );
}
