/**
 * Authentication, authorisation and the audit log, once for every call:
 * the key in `authorization: Bearer <key>` (or, with no such header, the web
 * UI's session cookie plus its CSRF token) becomes a Principal, the method's
 * rule in the policy table (policy.ts) decides, and every audited call
 * (writes, access changes) leaves an event with its outcome, allowed or not,
 * before it answers. Client streams with a per-message rule are checked
 * message by message as the handler pulls them.
 */
import { Code, ConnectError, createContextKey, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { PermissionDeniedError, UnauthenticatedError } from "../../services/errors.js";
import type { AuditLog, Authenticator, Principal, ScopeResolver, SessionService } from "../../services/identity/index.js";
import { authorize } from "../authorize.js";
import { toConnectError } from "../errors.js";
import { ruleOf, type Rule } from "../policy.js";
import { codeName, rpcRecordKey } from "../rpc-record.js";
import { CSRF_HEADER, sessionTokenOf } from "../session/cookie.js";

export type { Principal } from "../../services/identity/index.js";

/** The authenticated caller of a request, set by the auth interceptor. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "authenticated principal" });

/** The client's address, set by the node handler. */
export const peerKey = createContextKey<string>("", { description: "client address" });

export interface AccessDeps {
  authenticator: Pick<Authenticator, "authenticate">;
  scopes: ScopeResolver;
  audit: Pick<AuditLog, "record">;
  sessions: Pick<SessionService, "resolve" | "csrfMatches">;
}

/** The presented key, or UnauthenticatedError saying how to send one. */
export function bearerKey(header: string | null): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match?.[1]) throw new UnauthenticatedError('missing API key: send the header "authorization: Bearer <key>"');
  return match[1];
}

export function authInterceptor(deps: AccessDeps): Interceptor {
  return (next) => async (req) => {
    const rule = ruleOf(req.service.typeName, req.method.localName) as Rule<unknown, unknown> | undefined;
    // policy.test.ts keeps this from happening; refusing is the safe answer if it does.
    if (!rule) throw new PermissionDeniedError(`${req.method.name} has no access rule`);
    if (rule.need === "public") return next(req);
    const source = req.contextValues.get(peerKey);
    const sent = { authorization: req.header.get("authorization"), cookie: req.header.get("cookie"), csrf: req.header.get(CSRF_HEADER) };
    const principal = await callerOf(deps, sent, source);
    req.contextValues.set(principalKey, principal);

    let resource = "";
    const check = async (message: unknown) => {
      if (rule.audit && !resource) resource = rule.audit(message);
      await authorize(rule, message, principal, deps.scopes);
    };
    const record = async (error?: unknown) => {
      if (!rule.audit) return;
      const code = error === undefined ? "ok" : codeName(error instanceof ConnectError ? error.code : toConnectError(error, "").code);
      await deps.audit.record(principal, {
        method: `${req.service.typeName}/${req.method.name}`,
        resource,
        source,
        outcome: req.signal.aborted && code !== "ok" ? codeName(Code.Canceled) : code,
        requestId: req.contextValues.get(rpcRecordKey)?.requestId ?? "",
      });
    };

    try {
      if (!req.stream) await check(req.message);
      // A server stream's one request message also arrives as a stream: checked as the handler takes it.
      else if (rule.perMessage || req.method.methodKind === "server_streaming") req = { ...req, message: checkedEach(req.message, check) };
      else await check(undefined);
      const res = await next(req);
      if (rule.created && !res.stream) resource = rule.created(res.message);
      await record();
      return res;
    } catch (error) {
      // A refused or failed call changed nothing, so its answer does not wait for its event (a client that
      // sent garbage is often gone by then). If the event cannot be stored, the database is down, which
      // is most likely why the call failed: there is nothing better to do with that error than drop it.
      void record(error).catch(() => undefined);
      throw error;
    }
  };
}

/**
 * The caller of a request: an `authorization` header wins whenever present (a
 * bad key is refused, never rescued by a cookie); without one, the session
 * cookie. Connect calls are all POSTs, so an RPC signed in by the cookie must
 * always carry the session's CSRF token: the simple rule that leaves no write
 * unguarded. The download routes (GET only, changing nothing) pass
 * `csrf: "not needed"`.
 */
export async function callerOf(
  deps: Pick<AccessDeps, "authenticator" | "sessions">,
  sent: { authorization: string | null; cookie: string | null; csrf: string | null | "not needed" },
  source: string,
): Promise<Principal> {
  const token = sent.authorization === null ? sessionTokenOf(sent.cookie) : undefined;
  if (token === undefined) return deps.authenticator.authenticate(bearerKey(sent.authorization), source);
  const session = await deps.sessions.resolve(token);
  if (sent.csrf !== "not needed" && !deps.sessions.csrfMatches(session.view, sent.csrf)) {
    throw new PermissionDeniedError(`a call signed in by the session cookie needs the header ${CSRF_HEADER} with the csrfToken of GET /api/v1/session`);
  }
  return session.principal;
}

async function* checkedEach<T>(messages: AsyncIterable<T>, check: (m: T) => Promise<void>): AsyncIterable<T> {
  for await (const message of messages) {
    await check(message);
    yield message;
  }
}

/** The caller of an authenticated RPC; a handler reached without one is a wiring bug. */
export function principalOf(ctx: HandlerContext): Principal {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw new Error("handler reached without an authenticated principal");
  return principal;
}
