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
