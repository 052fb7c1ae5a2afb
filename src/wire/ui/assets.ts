/**
 * The web UI's Vite build, read once at start into memory: no request
 * touches the filesystem, so no request path can reach outside the build.
 * Each file's gzip and brotli forms are made on its first request that
 * accepts them (off the event loop) and kept, so compression is paid once
 * per process and never at start, which every server and test start would
 * pay for a UI nobody may open. Bounded: a build past MAX_UI_BYTES or
 * MAX_UI_FILES refuses to start (the real one is a few MiB).
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export const MAX_UI_BYTES = 64 * 1024 * 1024;
const MAX_UI_FILES = 10_000;
/** Smaller files gain nothing worth a header from compression. */
const COMPRESS_FROM_BYTES = 512;

export type Coding = "br" | "gzip";

export interface UiAsset {
  body: Buffer;
  contentType: string;
  etag: string;
  /** The body compressed with `coding`, made on first use and kept; undefined when that does not make it smaller. */
  encoded(coding: Coding): Promise<Buffer | undefined>;
}

/** Files by their path under the build directory, "/"-separated, without a leading "/". */
export type UiAssets = ReadonlyMap<string, UiAsset>;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
};
/** Types that are compressed already. */
const COMPRESSIBLE = /^(text\/|application\/(json|manifest\+json|wasm)|image\/svg)/;

/** The build in `dir`; undefined when there is none. Throws when it exceeds the bounds. */
export async function loadUiAssets(dir: string): Promise<UiAssets | undefined> {
  const exists = await lstat(dir).then((s) => s.isDirectory(), () => false);
  if (!exists) return undefined;
  const assets = new Map<string, UiAsset>();
  let total = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    // Regular files only: a symlink could point anywhere.
    if (!entry.isFile()) continue;
    if (assets.size >= MAX_UI_FILES) throw new Error(`the web UI build in ${dir} has more than ${MAX_UI_FILES} files: point TRAINTRACK_UI_DIR at a Vite build`);
    const full = path.join(entry.parentPath, entry.name);
    const body = await readFile(full);
    total += body.length;
    if (total > MAX_UI_BYTES) throw new Error(`the web UI build in ${dir} is over ${MAX_UI_BYTES / 1024 / 1024} MiB: point TRAINTRACK_UI_DIR at a Vite build`);
    const contentType = TYPES[path.extname(entry.name).toLowerCase()] ?? "application/octet-stream";
    const compress = body.length >= COMPRESS_FROM_BYTES && COMPRESSIBLE.test(contentType);
    assets.set(path.relative(dir, full).split(path.sep).join("/"), {
      body,
      contentType,
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
      encoded: compress ? compressedOnce(body) : () => Promise.resolve(undefined),
    });
  }
  return assets;
}

/** `encoded` for a compressible body: each coding made once, on first use. */
function compressedOnce(body: Buffer): UiAsset["encoded"] {
  const made = new Map<Coding, Promise<Buffer | undefined>>();
  const smaller = (b: Buffer) => (b.length < body.length ? b : undefined);
  return (coding) => {
    let out = made.get(coding);
    if (!out) {
      out =
        coding === "br"
          ? // Quality 9 of 11: nearly as small, many times faster.
            brotliAsync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }).then(smaller)
          : gzipAsync(body, { level: 9 }).then(smaller);
      made.set(coding, out);
    }
    return out;
  };
}
