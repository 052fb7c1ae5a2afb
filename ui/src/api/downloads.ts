/**
 * The server's plain-HTTP downloads (src/wire/downloads): links the browser
 * saves as files, authenticated by the session cookie. Each path element is
 * encoded; the "/" between them stays.
 */
const encodePath = (p: string) => p.split("/").map(encodeURIComponent).join("/");

export function datasetArtefactUrl(name: string, version: string, artefactPath: string): string {
  return `/api/v1/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/artefacts/${encodePath(artefactPath)}`;
}

export function runArtefactUrl(runId: string, artefactPath: string): string {
  return `/api/v1/runs/${encodeURIComponent(runId)}/artefacts/${encodePath(artefactPath)}`;
}

export function modelFileUrl(model: string, version: bigint, filePath: string): string {
  return `/api/v1/models/${encodeURIComponent(model)}/versions/${version}/files/${encodePath(filePath)}`;
}
