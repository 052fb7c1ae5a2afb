/**
 * Types for the decompressors of hyparquet-compressors imported one by one
 * (parquet-codecs.ts): the package types only its index, whose `compressors`
 * compiles WebAssembly (hysnappy), which the UI's Content-Security-Policy
 * (script-src 'self') forbids.
 */
declare module "hyparquet-compressors/src/gzip.js" {
  export function gunzip(input: Uint8Array, output: Uint8Array, inputIndex?: number, outputIndex?: number): Uint8Array;
}
declare module "hyparquet-compressors/src/brotli.js" {
  export function decompressBrotli(input: Uint8Array, outputLength: number): Uint8Array;
}
declare module "hyparquet-compressors/src/lz4.js" {
  export function decompressLz4(input: Uint8Array, outputLength: number): Uint8Array;
  export function decompressLz4Raw(input: Uint8Array, outputLength: number): Uint8Array;
}
