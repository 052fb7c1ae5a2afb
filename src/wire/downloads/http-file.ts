/**
 * The HTTP side of sending a stored file: which bytes a Range header asks
 * for, and the headers that make a browser save it under its own name,
 * revalidate it by its hash, and never run it as part of the UI's origin.
 */

/** Bytes `start` to `end` inclusive, as Content-Range counts them. */
export interface Span {
  start: number;
  end: number;
}

/**
 * What `range` (a Range header) asks of a file of `size` bytes: undefined for
 * the whole file (no header, another unit, or several ranges, which a client
 * must be ready to get whole), "unsatisfiable" for a range wholly past the
 * end (416), else the one span, cut at the end (RFC 9110 §14.1.2).
 */
export function requestedSpan(range: string | undefined, size: number): Span | "unsatisfiable" | undefined {
  if (!range) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(range);
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    // A suffix: the last n bytes.
    const n = Number(last);
    if (n === 0) return "unsatisfiable";
    return size === 0 ? "unsatisfiable" : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return "unsatisfiable";
  if (end < start) return undefined; // invalid: ignored, as the RFC asks
  return { start, end };
}

/** A strong ETag from the content's sha256: the same bytes are the same entity wherever they are stored. */
export const etagOf = (sha256: string): string => `"${sha256}"`;

/** Whether an If-None-Match or If-Range header names `etag` (weak comparison for If-None-Match, as RFC 9110 asks). */
export function namesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/**
 * `attachment` with the file's base name: quoted ASCII for old clients, and
 * RFC 5987's UTF-8 form for every other name. Characters that could end
 * the quoted string or the header are replaced.
 */
export function contentDisposition(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1) || "download";
  const ascii = base.replace(/[^\x20-\x7e]|["\\%;]/g, "_");
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * Headers every stored file is sent with. Artefacts are anyone's uploads
 * served from the UI's own origin: `nosniff` and a sandboxing CSP keep an
 * HTML or SVG artefact, opened directly, from running script with the
 * signed-in user's session. `private, no-cache`: a browser may keep the
 * bytes but asks again (a 304 by ETag) so that a revoked access is noticed.
 */
export function fileHeaders(file: { path: string; sha256: string; mediaType: string }): Record<string, string> {
  return {
    "content-type": file.mediaType || "application/octet-stream",
    "content-disposition": contentDisposition(file.path),
    etag: etagOf(file.sha256),
    "accept-ranges": "bytes",
    "cache-control": "private, no-cache",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
  };
}
