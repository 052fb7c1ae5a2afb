/** Page tokens are opaque to clients: base64url JSON, URL- and shell-safe. */
import { InvalidInputError } from "./errors.js";

export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/** The token's value, checked by `isValid`; InvalidInputError for a token this server did not issue. */
export function decodeToken<T>(token: string, isValid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  if (!isValid(value)) throw new InvalidInputError("page_token", "page_token is not one this server issued for this request");
  return value;
}

/** A page of items and the token of the next page ("" on the last one). */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

export const isSafeInt = (v: unknown): v is number => Number.isSafeInteger(v);
export const isString = (v: unknown): v is string => typeof v === "string";

/**
 * A page from `rows`, fetched with one row more than `pageSize` to tell whether
 * another page follows; the next page's token is `cursor` of the page's last row.
 */
export function pageOf<T>(rows: T[], pageSize: number, cursor: (last: T) => unknown): Page<T> {
  const items = rows.slice(0, pageSize);
  const last = items.at(-1);
  return { items, nextPageToken: rows.length > pageSize && last !== undefined ? encodeToken(cursor(last)) : "" };
}

/** A cursor of newest-first lists: the last row's time (ISO) and id. */
export interface TimeCursor {
  t: string;
  id: string;
}

export const isTimeCursor = (v: unknown): v is TimeCursor =>
  typeof v === "object" && v !== null && isString((v as TimeCursor).t) && !Number.isNaN(Date.parse((v as TimeCursor).t)) && isString((v as TimeCursor).id);

/** A cursor of lists by a name, then id. */
export const isNameCursor = <K extends string>(key: K) => (v: unknown): v is Record<K, string> & { id: string } =>
  typeof v === "object" && v !== null && isString((v as Record<string, unknown>)[key]) && isString((v as { id?: unknown }).id);
