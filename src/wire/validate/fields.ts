/**
 * Checks for text that arrives from the network. Every check throws
 * InvalidInputError naming the field and what to fix. Object keys are never
 * built from these values; they are checked because they are stored, shown,
 * and (paths) written to users' disks by the SDK.
 */
import { InvalidInputError } from "../../services/errors.js";

// NUL cannot be stored in PostgreSQL text; other control characters (C0, DEL, and C1,
// whose U+009B is an 8-bit terminal escape) hide in logs and terminals.
const CONTROL = /\p{Cc}/u;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const SHA256 = /^[0-9a-f]{64}$/;

const bytes = (value: string) => Buffer.byteLength(value, "utf8");

function maxBytes(field: string, value: string, max: number): void {
  if (bytes(value) > max) throw new InvalidInputError(field, `${field} is ${bytes(value)} bytes long; the limit is ${max}`);
}

export function noControl(field: string, value: string): void {
  if (CONTROL.test(value)) throw new InvalidInputError(field, `${field} contains a NUL or control character`);
}

/** Free text: no NUL, at most `max` bytes (newlines and tabs allowed). */
export function text(field: string, value: string, max: number): string {
  if (value.includes("\u0000")) throw new InvalidInputError(field, `${field} contains a NUL character`);
  maxBytes(field, value, max);
  return value;
}

/** A dataset name: letters, digits, ".", "_", "-", starting with a letter or digit. */
export function datasetName(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required`);
  maxBytes(field, value, 128);
  if (!NAME.test(value)) {
    throw new InvalidInputError(field, `${field} ${JSON.stringify(value)} may only hold letters, digits, ".", "_" and "-", and must start with a letter or digit`);
  }
  return value;
}

/** A version string such as "1.0.0" or "2024-01-05+rc1". */
export function versionString(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required, e.g. "1.0.0"`);
  maxBytes(field, value, 64);
  if (!VERSION.test(value)) {
    throw new InvalidInputError(field, `${field} ${JSON.stringify(value)} may only hold letters, digits, ".", "_", "+" and "-", and must start with a letter or digit`);
  }
  return value;
}

/** One path element: a file name. */
export function fileName(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required`);
  pathElement(field, value);
  return value;
}

/** A relative "/"-separated path inside a dataset; empty is allowed (means the file name). */
export function artefactPath(field: string, value: string): string {
  if (!value) return value;
  maxBytes(field, value, 1024);
  if (value.startsWith("/")) throw new InvalidInputError(field, `${field} ${JSON.stringify(value)} is absolute; give a path relative to the dataset`);
  for (const element of value.split("/")) pathElement(field, element);
  return value;
}

function pathElement(field: string, element: string): void {
  noControl(field, element);
  if (element === "" || element === "." || element === "..") {
    throw new InvalidInputError(field, `${field} has an empty, "." or ".." element; use a plain relative path such as "train/part-0.csv"`);
  }
  if (element.includes("\\") || element.includes("/")) {
    throw new InvalidInputError(field, `${field} ${JSON.stringify(element)} contains a "/" or "\\" where one path element is expected`);
  }
  maxBytes(field, element, 255);
}

export function mediaType(field: string, value: string): string {
  noControl(field, value);
  maxBytes(field, value, 127);
  return value || "application/octet-stream";
}

/** Optional lowercase (or uppercase, normalised) hex sha256. */
export function optionalSha256(field: string, value: string): string | undefined {
  if (!value) return undefined;
  const lower = value.toLowerCase();
  if (!SHA256.test(lower)) throw new InvalidInputError(field, `${field} must be 64 hex digits (a sha256), not ${JSON.stringify(value.slice(0, 80))}`);
  return lower;
}

/** A non-negative int64 that fits a JavaScript number. */
export function count(field: string, value: bigint, max = Number.MAX_SAFE_INTEGER): number {
  if (value < 0n) throw new InvalidInputError(field, `${field} must not be negative`);
  if (value > BigInt(max)) throw new InvalidInputError(field, `${field} must be at most ${max}`);
  return Number(value);
}

/** An id the server issued; shape is checked by the service (an id of the wrong shape is simply not found). */
export function id(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required`);
  noControl(field, value);
  maxBytes(field, value, 64);
  return value;
}

/** page_size: 0 means the default. */
export function pageSize(field: string, value: number, fallback = 100, max = 1000): number {
  if (value < 0 || value > max) throw new InvalidInputError(field, `${field} must be between 0 and ${max}`);
  return value === 0 ? fallback : value;
}

/** Tokens are base64url JSON of a cursor; a path cursor (up to 1024 bytes, escaped) needs up to about 2.8 KB. */
export function pageToken(field: string, value: string): string {
  noControl(field, value);
  maxBytes(field, value, 4096);
  return value;
}
