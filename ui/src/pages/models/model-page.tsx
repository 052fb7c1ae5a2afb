/**
 * A registered model: its aliases (set, moved and deleted here by editors),
 * its versions newest first (paged) with the metrics of the runs that made
 * them, and the alias history as a timeline (paged by ?history=…).
 */
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { ModelService, type RegisteredModel } from "@gen/traintrack/v1/model_pb.js";
import { useState } from "react";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatBytes, formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { Link, path, useParams } from "../../router.js";
import { Outcome } from "../admin/admin-layout.js";
import { WriteButton, useAllowed, useInvalidate } from "../admin/allowed.js";
import { AliasTimeline } from "./alias-timeline.js";
import { Markdown } from "./markdown.js";
import { RunMetricsCell } from "./run-metrics.js";
import "./models.css";

const HISTORY_PAGE = 200;

export function ModelPage() {
  const { name = "" } = useParams();
  const model = useQuery(ModelService.method.getRegisteredModel, { name });
  return (
    <section>
      <div className="crumbs">
        <Link to="/models">Models</Link> /
      </div>
      <Loaded query={model} what={`read the model "${name}"`}>
        {(data) => (data.model ? <ModelView model={data.model} /> : <Empty title="No such model." />)}
      </Loaded>
    </section>
  );
}

/** Why a model write is greyed out. */
export function whyNotModel(model: RegisteredModel): string {
  return `Your role does not allow this: it needs the editor role on ${model.project ? `the project ${model.project}` : "the organisation"}.`;
}

function ModelView({ model }: { model: RegisteredModel }) {
  return (
    <>
      <div className="page-head">
        <h1>{model.name}</h1>
        <span className="muted">{model.project ? `project ${model.project}` : "organisation-wide"}</span>
        <span className="muted">created {formatTime(model.createdAt)}</span>
      </div>
      {model.description ? <Markdown text={model.description} /> : null}
      {Object.keys(model.tags).length ? (
        <div className="chips">
          {Object.entries(model.tags).map(([k, v]) => (
            <span key={k} className="chip">
              {k}: {v}
            </span>
          ))}
        </div>
      ) : null}
      <Aliases model={model} />
      <Versions model={model.name} />
      <History model={model.name} />
    </>
  );
}

function Aliases({ model }: { model: RegisteredModel }) {
  const perms = useAllowed([ModelService.method.setModelAlias, ModelService.method.deleteModelAlias], model.project);
  const allowed = perms.may;
  const why = perms.known ? whyNotModel(model) : "Checking what your role allows…";
  const invalidate = useInvalidate();
  const [alias, setAlias] = useState("");
  const [version, setVersion] = useState(model.latestVersion > 0n ? String(model.latestVersion) : "");
  const [reason, setReason] = useState("");
  const set = useMutation(ModelService.method.setModelAlias, { onSuccess: () => (setReason(""), invalidate(ModelService)) });
  const remove = useMutation(ModelService.method.deleteModelAlias, { onSuccess: () => invalidate(ModelService) });
  const maySet = allowed(ModelService.method.setModelAlias);
  return (
    <>
      <h2>Aliases</h2>
      {model.aliases.length === 0 ? (
        <div className="muted">No aliases yet: point one (e.g. “production”) at a version below, and its every move is kept.</div>
      ) : (
        <table className="grid aliases">
          <thead>
            <tr>
              <th>Alias</th>
              <th>Version</th>
              <th>Since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {model.aliases.map((a) => (
              <tr key={a.alias} data-alias={a.alias}>
                <td>
                  <code>{a.alias}</code> {a.protected ? <span className="status" title="Moved only by maintainers of the model">protected</span> : null}
                </td>
                <td>
                  <Link to={path`/models/${model.name}/versions/${String(a.version)}`}>v{String(a.version)}</Link>
                </td>
                <td>{formatTime(a.updatedAt)}</td>
                <td className="actions">
                  <WriteButton
                    allowed={allowed(ModelService.method.deleteModelAlias)}
                    why={why}
                    onClick={() => {
                      if (window.confirm(`Delete the alias ${a.alias}? Its history is kept.`)) remove.mutate({ model: model.name, alias: a.alias });
                    }}
                  >
                    Delete
                  </WriteButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="inline-form"
        aria-label="Set an alias"
        onSubmit={(e) => {
          e.preventDefault();
          set.mutate({ model: model.name, alias, version: BigInt(version || "0"), reason });
        }}
      >
        <span>Point</span>
        <input placeholder="alias, e.g. production" aria-label="Alias" value={alias} onChange={(e) => setAlias(e.target.value.trim())} disabled={!maySet} required />
        <span>at version</span>
        <input className="short" type="number" min={1} aria-label="Version" value={version} onChange={(e) => setVersion(e.target.value)} disabled={!maySet} required />
        <input placeholder="why (kept in the history)" aria-label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} disabled={!maySet} />
        <WriteButton allowed={maySet} why={why} type="submit" className="primary" disabled={set.isPending}>
          Set alias
        </WriteButton>
      </form>
      <Outcome
        error={set.error ?? remove.error}
        what="change the alias"
        done={set.data ? `${set.data.alias?.alias} → v${set.data.alias?.version}${set.data.previousVersion ? ` (was v${set.data.previousVersion})` : ""}` : undefined}
      />
    </>
  );
}

function Versions({ model }: { model: string }) {
  const pageToken = usePageToken();
  const query = useQuery(ModelService.method.listModelVersions, { model, pageSize: PAGE_SIZE, pageToken });
  return (
    <>
      <h2>Versions</h2>
      <Loaded query={query} what="list the model's versions">
        {(data) =>
          data.versions.length === 0 ? (
            <Empty title="No versions yet.">
              Register one from a run in Python: <code>run.log_model("model/", name="{model}")</code>
            </Empty>
          ) : (
            <>
              <table className="grid versions">
                <thead>
                  <tr>
                    <th>Version</th>
                    <th>Aliases</th>
                    <th>Framework</th>
                    <th>Run and its metrics</th>
                    <th className="num">Files</th>
                    <th className="num">Size</th>
                    <th>Registered</th>
                  </tr>
                </thead>
                <tbody>
                  {data.versions.map((v) => (
                    <tr key={String(v.version)} data-version={String(v.version)}>
                      <td>
                        <Link to={path`/models/${model}/versions/${String(v.version)}`}>v{String(v.version)}</Link>
                      </td>
                      <td>
                        {v.aliases.map((a) => (
                          <span key={a} className="chip">
                            {a}
                          </span>
                        ))}
                      </td>
                      <td>{v.framework}</td>
                      <td>
                        <RunMetricsCell runId={v.runId} />
                      </td>
                      <td className="num">{v.fileCount}</td>
                      <td className="num">{formatBytes(v.totalSize)}</td>
                      <td>{formatTime(v.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager nextPageToken={data.nextPageToken} />
            </>
          )
        }
      </Loaded>
    </>
  );
}

function History({ model }: { model: string }) {
  const pageToken = usePageToken("history");
  const query = useQuery(ModelService.method.getModelAliasHistory, { model, pageSize: HISTORY_PAGE, pageToken });
  return (
    <>
      <h2>Alias history</h2>
      <Loaded query={query} what="read the alias history">
        {(data) =>
          data.moves.length === 0 ? (
            <div className="muted">No alias has been set yet.</div>
          ) : (
            <>
              <AliasTimeline model={model} moves={data.moves} />
              <Pager nextPageToken={data.nextPageToken} param="history" />
            </>
          )
        }
      </Loaded>
    </>
  );
}
