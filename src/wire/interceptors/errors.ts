import type { Interceptor } from "@connectrpc/connect";
import { type ErrorLogger, toConnectError } from "../errors.js";

/**
 * Maps every error a handler throws to a ConnectError, unary and streaming
 * alike: a server-streaming response fails while it is being iterated, after
 * `next` has returned, so its message iterable is wrapped too.
 */
export function errorInterceptor(log: ErrorLogger): Interceptor {
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapErrors(res.message, log) };
    } catch (error) {
      throw toConnectError(error, log);
    }
  };
}

async function* mapErrors<T>(messages: AsyncIterable<T>, log: ErrorLogger): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw toConnectError(error, log);
  }
}
