import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { rpcRecordKey } from "../rpc-record.js";
import { principalKey } from "./auth.js";

/**
 * Fills in the RPC's record (see rpc-record.ts) as the handler settles: its
 * final code, the error behind it, the caller. Outermost, so it sees the
 * codes the error interceptor chose. A call whose client went away is
 * canceled, not an error of ours. Every response carries its request id in
 * `x-request-id`, which is also what the log line and an INTERNAL message name.
 */
export function observeInterceptor(): Interceptor {
  return (next) => async (req) => {
    const record = req.contextValues.get(rpcRecordKey);
    if (!record) return next(req);
    const settle = (error?: unknown) => {
      const principal = req.contextValues.get(principalKey);
      record.orgId = principal?.orgId;
      record.keyId = principal?.keyId;
      if (error === undefined) {
        record.code = "ok";
        return;
      }
      const connectError = ConnectError.from(error);
      record.code = req.signal.aborted && connectError.code !== Code.Unavailable ? Code.Canceled : connectError.code;
      record.message = connectError.rawMessage;
      record.error = connectError.cause;
      connectError.metadata.set("x-request-id", record.requestId);
    };
    try {
      const res = await next(req);
      res.header.set("x-request-id", record.requestId);
      if (!res.stream) {
        settle();
        return res;
      }
      return { ...res, message: settled(res.message, settle) };
    } catch (error) {
      settle(error);
      throw error;
    }
  };
}

async function* settled<T>(messages: AsyncIterable<T>, settle: RpcRecordSettler): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    settle(error);
    throw error;
  }
  settle();
}

type RpcRecordSettler = (error?: unknown) => void;

