/**
 * The one Connect transport of the UI: same origin, binary protobuf (a
 * metric chart's points are a tenth of their JSON size), the session's CSRF
 * token on every call. A call answered UNAUTHENTICATED means the session
 * ended (signed out elsewhere, key revoked, user deactivated): `onSignedOut`
 * takes the user back to the sign-in page.
 */
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

export function createTransport(csrfToken: string, onSignedOut: () => void): Transport {
  const session: Interceptor = (next) => async (req) => {
    req.header.set("x-csrf-token", csrfToken);
    try {
      return await next(req);
    } catch (error) {
      if (ConnectError.from(error).code === Code.Unauthenticated) onSignedOut();
      throw error;
    }
  };
  return createConnectTransport({ baseUrl: window.location.origin, useBinaryFormat: true, interceptors: [session] });
}
