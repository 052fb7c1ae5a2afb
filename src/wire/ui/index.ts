/**
 * Serves the web UI at `/`: a file of the build by its path, and index.html
 * for every other page path, so that the single-page app's own routes
 * (/runs/r_…) load on reload. Content-hashed files under /assets/ are cached
 * for a year; index.html is revalidated on every load, so a new build is
 * picked up at once. The node handler sends here only GET and HEAD requests
 * that no API route took.
 */
import { namesEtag } from "../downloads/http-file.js";
import { headerOf, type Request, type Response } from "../json-http.js";
import type { UiAsset, UiAssets } from "./assets.js";

export { loadUiAssets, type UiAssets } from "./assets.js";

/**
 * Scripts and styles from the server only, but inline style attributes (React
 * Flow and uPlot set them), workers from blob: URLs (elkjs), images from
 * data: and blob: URLs (chart exports); never framed, which stops clickjacking.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; img-src 'self' data: blob:; " +
  "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
};

const NOT_BUILT = "the web UI is not built: run `npm run build` (or set TRAINTRACK_UI_DIR to a Vite build of ui/)\n";

/**
 * Whether a path that names no file is one of the app's pages. A first
 * segment with a dot is an RPC's service ("/traintrack.v1.X/Y"): never a page.
 * A last segment with an extension looks like a missing file, unless a browser
 * navigates to it (a page may end in a name with a dot, like a dataset's).
 */
function isPagePath(segments: string[], accept: string): boolean {
  if ((segments[0] ?? "").includes(".")) return false;
  const last = segments[segments.length - 1] ?? "";
  return !last.includes(".") || accept.includes("text/html");
}

/** The request handler for the build `assets` (undefined: not built). */
export function createUiHandler(assets: UiAssets | undefined) {
  return function serve(req: Request, res: Response, path: string): void {
    if (!assets) return send(res, 503, { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS }, Buffer.from(NOT_BUILT), req.method === "HEAD");
    let segments: string[];
    try {
      segments = path.split("/").filter((s) => s !== "").map(decodeURIComponent);
    } catch {
      segments = ["\0"];
    }
    // Assets are looked up in memory, so nothing escapes the build; a path that tries is simply not a file.
    const traverses = segments.some((s) => s === ".." || s === "." || s.includes("\\") || s.includes("\0"));
    const name = segments.join("/");
    let asset = traverses ? undefined : assets.get(name);
    let file = name;
    if (!asset && !traverses && isPagePath(segments, String(req.headers.accept ?? ""))) {
      file = "index.html";
      asset = assets.get(file);
    }
    if (!asset) return send(res, 404, { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS }, Buffer.from("not found\n"), req.method === "HEAD");
    serveAsset(req, res, asset, file.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache").catch(() => {
      // Compressing failed (out of memory): nothing better to answer than a cut response.
      res.destroy();
    });
  };
}

async function serveAsset(req: Request, res: Response, asset: UiAsset, cacheControl: string): Promise<void> {
  const headers: Record<string, string> = { "content-type": asset.contentType, "cache-control": cacheControl, etag: asset.etag, vary: "accept-encoding", ...SECURITY_HEADERS };
  if (namesEtag(headerOf(req, "if-none-match"), asset.etag)) return send(res, 304, headers, Buffer.alloc(0), true);
  const accepted = String(req.headers["accept-encoding"] ?? "");
  let body = asset.body;
  for (const coding of ["br", "gzip"] as const) {
    const encoded = acceptsEncoding(accepted, coding) ? await asset.encoded(coding) : undefined;
    if (!encoded) continue;
    body = encoded;
    headers["content-encoding"] = coding;
    break;
  }
  send(res, 200, headers, body, req.method === "HEAD");
}

/** Whether an Accept-Encoding header accepts `coding` (listed without q=0). */
function acceptsEncoding(header: string, coding: string): boolean {
  return header.split(",").some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (name !== coding) return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function send(res: Response, status: number, headers: Record<string, string>, body: Buffer, headOnly: boolean): void {
  res.writeHead(status, status === 304 ? headers : { ...headers, "content-length": String(body.length) });
  if (headOnly) res.end();
  else res.end(body);
}
