/**
 * A version's artefacts by path, in pages (ListArtefacts), filterable by a
 * path prefix, each with its download link; the artefact chosen for preview
 * (?preview=<path>, else the first CSV or text file of the page) is shown below.
 */
import { useQuery } from "@connectrpc/connect-query";
import { DatasetService } from "@gen/traintrack/v1/dataset_pb.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatBytes } from "../../components/format.js";
import { PAGE_SIZE, Pager, SearchBox, usePageToken } from "../../components/pager.js";
import { setQuery, useLocation } from "../../router.js";
import { ArtefactPreview } from "./artefact-preview.js";
import { datasetArtefactUrl } from "../../api/downloads.js";
import { previewKind } from "./preview-parse.js";

export function ArtefactList({ name, version, count }: { name: string; version: string; count: number }) {
  const { query: params } = useLocation();
  const pathPrefix = params.get("prefix") ?? "";
  const chosen = params.get("preview") ?? "";
  const pageToken = usePageToken();
  const query = useQuery(DatasetService.method.listArtefacts, { dataset: { name, version }, pathPrefix, pageSize: PAGE_SIZE, pageToken });
  return (
    <>
      <div className="page-head artefacts-head">
        <h2>Artefacts</h2>
        <span className="muted">{count.toLocaleString()} in all</span>
        <SearchBox placeholder="Path starts with…" param="prefix" />
      </div>
      <Loaded query={query} what={`list the artefacts of "${name}" ${version}`}>
        {(data) => {
          if (data.artefacts.length === 0) {
            return pathPrefix ? <Empty title={`No artefact's path starts with "${pathPrefix}".`} /> : <Empty title="This version has no artefacts." />;
          }
                  // Without a choice, the first file of the page with a preview.
          const shown = chosen ? undefined : data.artefacts.find((a) => previewKind(a.path, a.mediaType) !== "binary");
          return (
            <>
              <table className="grid artefacts" data-testid="artefacts">
                <thead>
                  <tr>
                    <th>Path</th>
                    <th className="num">Size</th>
                    <th>Type</th>
                    <th>SHA-256</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {data.artefacts.map((a) => (
                    <tr key={a.path} className={a === shown || a.path === chosen ? "chosen" : undefined}>
                      <td>
                        <button type="button" className="link-button" title="Preview" onClick={() => setQuery({ preview: a.path })}>
                          {a.path}
                        </button>
                      </td>
                      <td className="num">{formatBytes(a.size)}</td>
                      <td className="muted">{a.mediaType}</td>
                      <td>
                        <code title={a.sha256}>{a.sha256.slice(0, 12)}</code>
                      </td>
                      <td>
                        <a href={datasetArtefactUrl(name, version, a.path)} download aria-label={`Download ${a.path}`}>
                          Download
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager nextPageToken={data.nextPageToken} />
              {chosen ? <ChosenPreview name={name} version={version} path={chosen} /> : shown ? <ArtefactPreview key={shown.path} name={name} version={version} artefact={shown} /> : null}
            </>
          );
        }}
      </Loaded>
    </>
  );
}

/** The artefact named by ?preview=, on this page or not (the URL of a preview can be shared). */
function ChosenPreview({ name, version, path }: { name: string; version: string; path: string }) {
  const query = useQuery(DatasetService.method.listArtefacts, { dataset: { name, version }, pathPrefix: path, pageSize: 1 });
  return (
    <Loaded query={query} what={`find artefact "${path}"`}>
      {(data) => {
        const artefact = data.artefacts.find((a) => a.path === path);
        if (!artefact) return <Empty title={`This version has no artefact "${path}".`}>Choose one from the list above.</Empty>;
        // Chosen in the table above it (up to 50 rows): brought into view.
        return <ArtefactPreview key={path} name={name} version={version} artefact={artefact} bringIntoView />;
      }}
    </Loaded>
  );
}
