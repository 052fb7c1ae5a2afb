import { createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import type { AuthService, Principal } from "../../services/auth.js";
import { UnauthenticatedError } from "../../services/errors.js";

/** The authenticated caller of a request, set by the auth interceptor. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "authenticated principal" });

/** Health and reflection stay open so that load balancers and grpcurl work without a key. */
const PUBLIC_SERVICES = new Set([
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** Requires `authorization: Bearer <key>` on every RPC but health and reflection. */
export function authInterceptor(auth: Pick<AuthService, "authenticate">): Interceptor {
  return (next) => async (req) => {
    if (!PUBLIC_SERVICES.has(req.service.typeName)) {
      const header = req.header.get("authorization") ?? "";
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match?.[1]) {
        throw new UnauthenticatedError('missing API key: send the header "authorization: Bearer <key>"');
      }
      req.contextValues.set(principalKey, await auth.authenticate(match[1]));
    }
    return next(req);
  };
}

/** The caller of an authenticated RPC; a handler reached without one is a wiring bug. */
export function principalOf(ctx: HandlerContext): Principal {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw new Error("handler reached without an authenticated principal");
  return principal;
}
