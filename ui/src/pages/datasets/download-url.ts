/**
 * The server's plain-HTTP download of an artefact (src/wire/downloads): a
 * link the browser saves as a file, authenticated by the session cookie.
 */
export function downloadUrl(name: string, version: string, artefactPath: string): string {
  const pathPart = artefactPath.split("/").map(encodeURIComponent).join("/");
  return `/api/v1/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/artefacts/${pathPart}`;
}
