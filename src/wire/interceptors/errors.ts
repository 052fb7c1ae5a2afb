import { randomUUID } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import { toConnectError } from "../errors.js";
import { rpcRecordKey } from "../rpc-record.js";

/**
 * Maps every error a handler throws to a ConnectError, unary and streaming
 * alike: a server-streaming response fails while it is being iterated, after
 * `next` has returned, so its message iterable is wrapped too.
 */
export function errorInterceptor(): Interceptor {
  return (next) => async (req) => {
    const requestId = () => req.contextValues.get(rpcRecordKey)?.requestId ?? randomUUID();
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapErrors(res.message, requestId) };
    } catch (error) {
      throw toConnectError(error, requestId());
    }
  };
}

async function* mapErrors<T>(messages: AsyncIterable<T>, requestId: () => string): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw toConnectError(error, requestId());
  }
}
