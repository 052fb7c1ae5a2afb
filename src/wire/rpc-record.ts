/**
 * What the server learns about one RPC while serving it, for its log line and
 * its metrics: the request id, the procedure, the final code, the caller. The
 * Node handler creates it and writes the line when the response has been sent;
 * interceptors fill it in on the way.
 */
import { Code, createContextKey } from "@connectrpc/connect";

export interface RpcRecord {
  requestId: string;
  /** "traintrack.v1.UploadService/Upload" */
  procedure: string;
  /** Set by the observe interceptor once the handler settles; unset when a request never reached it (a body that did not parse). */
  code?: Code | "ok";
  /** The message sent with a non-ok code. */
  message?: string;
  /** The error behind a non-ok code, for the log only (never sent). */
  error?: unknown;
  orgId?: string;
  keyId?: string;
}

export const rpcRecordKey = createContextKey<RpcRecord | undefined>(undefined, { description: "the RPC's log record" });

/** "invalid_argument" for Code.InvalidArgument, as gRPC status names are written in logs and metrics. */
export function codeName(code: Code | "ok"): string {
  return code === "ok" ? "ok" : Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}
