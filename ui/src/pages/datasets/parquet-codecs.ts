/// <reference path="./hyparquet-compressors.d.ts" />
/**
 * The decompressors hyparquet lacks (it decodes snappy itself): gzip, brotli,
 * lz4 and zstd, from hyparquet-compressors in pure JavaScript. Not its
 * `compressors` export: that one compiles hysnappy's WebAssembly as it loads,
 * which the UI's Content-Security-Policy (script-src 'self', no
 * 'wasm-unsafe-eval') refuses. Loaded on demand, only for files using them.
 */
import { decompress as decompressZstd } from "fzstd";
import type { Compressors } from "hyparquet";
import { decompressBrotli } from "hyparquet-compressors/src/brotli.js";
import { gunzip } from "hyparquet-compressors/src/gzip.js";
import { decompressLz4, decompressLz4Raw } from "hyparquet-compressors/src/lz4.js";

export const compressors: Compressors = {
  GZIP: (input, outputLength) => gunzip(input, new Uint8Array(outputLength)),
  BROTLI: decompressBrotli,
  ZSTD: (input) => decompressZstd(input),
  LZ4: decompressLz4,
  LZ4_RAW: decompressLz4Raw,
};
