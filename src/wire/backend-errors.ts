/**
 * Which failures of a backing service are outages. Pure: it looks only at the
 * error and its causes (codes and the few messages pg raises without a code),
 * so that wire/errors.ts can answer UNAVAILABLE, naming the service, instead
 * of INTERNAL when the database or object storage is down, restarting or full.
 */
import { type Backend, originOf } from "../util/backend-origin.js";

export type BackendFailure =
  /** Down, restarting, unreachable or out of connections: retrying later may succeed. */
  | { kind: "unreachable"; backend: Backend | undefined; reason: string }
  /** The database answered, but cancelled a statement at the server's statement timeout. */
  | { kind: "statement-timeout" };

// A socket could not be opened, was closed under us, or went silent.
const NETWORK: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection lost",
  ECONNABORTED: "connection lost",
  EPIPE: "connection lost",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EHOSTDOWN: "host down",
  ENETDOWN: "network down",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
};

// SQLSTATEs of a server that is going away, starting or full. Class 08
// (connection exceptions) is matched as a whole below.
const SQLSTATE: Record<string, string> = {
  "57P01": "server shutting down", // admin_shutdown, also pg_terminate_backend
  "57P02": "server crashed", // crash_shutdown
  "57P03": "server starting or stopping", // cannot_connect_now
  "53300": "too many connections",
};

// pg raises these without a code.
const PG_MESSAGES: Record<string, string> = {
  "Connection terminated unexpectedly": "connection lost",
  "Connection terminated due to connection timeout": "connect timeout",
  // pg-pool says this also when every pooled connection stayed busy for the connect timeout.
  "timeout exceeded when trying to connect": "connect timeout: database down, or all connections busy",
  "Client has encountered a connection error and is not queryable": "connection lost",
};

// S3 answers these (or minio-js gives up retrying a 5xx) while it is starting or overloaded.
const S3_CODES = new Set(["ServiceUnavailable", "SlowDown", "XMinioServerNotInitialized"]);
const S3_GAVE_UP = /^Request failed after \d+ retries: Error: Retryable HTTP status: 5\d\d$/;

/** Classifies `error` (or a cause) as a backing-service outage or statement timeout; undefined otherwise. */
export function classifyBackendFailure(error: unknown): BackendFailure | undefined {
  for (let e: unknown = error, depth = 0; typeof e === "object" && e !== null && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    const message = (e as { message?: unknown }).message;
    if (code === "57014") return { kind: "statement-timeout" };
    const unreachable = (backend: Backend | undefined, reason: string): BackendFailure =>
      ({ kind: "unreachable", backend: originOf(error) ?? backend, reason });
    if (typeof code === "string") {
      const network = NETWORK[code];
      if (network) return unreachable(undefined, network);
      const sqlstate = SQLSTATE[code] ?? (/^08[0-9A-Z]{3}$/.test(code) ? "connection failure" : undefined);
      if (sqlstate) return unreachable("database", sqlstate);
      if (S3_CODES.has(code)) return unreachable("object storage", "service unavailable");
    }
    if (typeof message === "string") {
      const pg = PG_MESSAGES[message];
      if (pg) return unreachable("database", pg);
      if (message === "socket hang up") return unreachable(undefined, "connection lost");
      if (S3_GAVE_UP.test(message)) return unreachable("object storage", "service unavailable");
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
