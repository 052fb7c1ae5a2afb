/**
 * Which errors of the database and object storage are outages (UNAVAILABLE,
 * naming the service) and which are not. Pure logic: the errors are built the
 * way pg, Node's sockets and minio-js build them.
 */
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { markOrigin } from "../../src/util/backend-origin.js";
import { classifyBackendFailure } from "../../src/wire/backend-errors.js";
import { toConnectError } from "../../src/wire/errors.js";

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });
const fromDb = <E>(e: E) => markOrigin(e, "database");
const fromStore = <E>(e: E) => markOrigin(e, "object storage");
const REQUEST_ID = "0b5c7e9e-3f4a-4c2e-9d1b-2a6f8e4c1d00";

describe("backend failure classification", () => {
  it.each([
    ["connection refused", fromDb(withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"))],
    ["pool connect timeout", new Error("timeout exceeded when trying to connect")],
    ["connection terminated", new Error("Connection terminated unexpectedly")],
    ["pg connect timeout", new Error("Connection terminated due to connection timeout")],
    ["admin shutdown (pg_ctl -m fast, pg_terminate_backend)", withCode("57P01", "terminating connection due to administrator command")],
    ["crash shutdown", withCode("57P02")],
    ["server starting up", withCode("57P03", "the database system is starting up")],
    ["too many connections", withCode("53300", "sorry, too many clients already")],
    ["class 08 connection exception", withCode("08006")],
    ["an outage wrapped as the cause of another error", new Error("commit failed", { cause: withCode("57P01") })],
  ])("%s is the database being unreachable", (_, error) => {
    expect(classifyBackendFailure(error)).toMatchObject({ kind: "unreachable", backend: "database" });
    const connectError = toConnectError(error, REQUEST_ID);
    expect(connectError.code).toBe(Code.Unavailable);
    expect(connectError.rawMessage).toMatch(/^the database is unreachable/);
  });

  it.each([
    ["connection refused", fromStore(withCode("ECONNREFUSED"))],
    ["connection reset mid-request", fromStore(withCode("ECONNRESET", "read ECONNRESET"))],
    ["socket hang up", fromStore(withCode("ECONNRESET", "socket hang up"))],
    ["request timeout", fromStore(withCode("ETIMEDOUT", "object storage sent nothing for 60000 ms"))],
    ["MinIO still starting", fromStore(withCode("XMinioServerNotInitialized"))],
    ["minio-js giving up on a 503", fromStore(new Error("Request failed after 1 retries: Error: Retryable HTTP status: 503"))],
  ])("%s is object storage being unreachable", (_, error) => {
    expect(classifyBackendFailure(error)).toMatchObject({ kind: "unreachable", backend: "object storage" });
    const connectError = toConnectError(error, REQUEST_ID);
    expect(connectError.code).toBe(Code.Unavailable);
    expect(connectError.rawMessage).toMatch(/^object storage is unreachable/);
  });

  it("an unmarked network error is an outage of an unnamed backing service", () => {
    const error = withCode("ECONNREFUSED");
    expect(classifyBackendFailure(error)).toMatchObject({ kind: "unreachable", backend: undefined });
    expect(toConnectError(error, REQUEST_ID).rawMessage).toMatch(/^a backing service \(database or object storage\) is unreachable/);
  });

  it("a statement timeout is DEADLINE_EXCEEDED, not an outage: the database answered", () => {
    const error = fromDb(withCode("57014", "canceling statement due to statement timeout"));
    expect(classifyBackendFailure(error)).toEqual({ kind: "statement-timeout" });
    expect(toConnectError(error, REQUEST_ID).code).toBe(Code.DeadlineExceeded);
  });

  it.each([
    ["a unique violation", fromDb(withCode("23505"))],
    ["a syntax error", fromDb(withCode("42601"))],
    ["a missing object", fromStore(withCode("NoSuchKey"))],
    ["a plain bug", new TypeError("x is undefined")],
    ["a non-error", "boom"],
  ])("%s is not a backend failure, and stays INTERNAL", (_, error) => {
    expect(classifyBackendFailure(error)).toBeUndefined();
    expect(toConnectError(error, REQUEST_ID).code).toBe(Code.Internal);
  });

  it("the request id is in the message, and the original error stays as the cause, for the log only", () => {
    const error = fromDb(withCode("ECONNREFUSED"));
    const connectError = toConnectError(error, REQUEST_ID);
    expect(connectError.rawMessage).toContain(`request id ${REQUEST_ID}`);
    expect(connectError.cause).toBe(error);
  });
});
