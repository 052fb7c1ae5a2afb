/**
 * Web UI sessions: a user signs in with an API key and gets a random session
 * token (the browser keeps it in an HttpOnly cookie) and a CSRF token (the UI
 * keeps it in memory and sends it with every call). The server keeps only the
 * token's hash and which key the session acts with. Every request resolves
 * that key again through the authenticator's notification-guarded cache, so
 * the key's revocation or its user's deactivation ends every session of it
 * at once. A session ends when idle for `idleMs` (each use slides it), at
 * `maxMs` after sign-in whatever happens, or at sign-out.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";
import * as repo from "../../db/sessions-repo.js";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.js";
import { newId } from "../ids.js";
import type { AuditLog } from "./audit.js";
import type { Authenticator } from "./authenticator.js";
import type { Principal } from "./roles.js";

export interface SessionDeps {
  db: Kysely<Database>;
  now: () => Date;
  authenticator: Pick<Authenticator, "authenticate" | "authenticateHash">;
  audit: Pick<AuditLog, "record">;
  /** A session unused this long ends (TRAINTRACK_SESSION_IDLE_MS). */
  idleMs: number;
  /** A session ends this long after sign-in (TRAINTRACK_SESSION_MAX_MS). */
  maxMs: number;
}

/** What the UI learns of its session. */
export interface SessionView {
  csrfToken: string;
  orgId: string;
  userId: string;
  /** When the session ends unless used again before (idle), or for good (the absolute cap), whichever is first. */
  expiresAt: Date;
}

export type SessionService = ReturnType<typeof createSessionService>;

/** Sessions one key may hold; signing in again past it ends its oldest. */
export const MAX_SESSIONS_PER_KEY = 100;
/** Expired sessions one sign-in deletes: bounded work, and sign-ins outpace expiries. */
const SWEEP_LIMIT = 100;
/** A session's idle clock is moved on at most once a minute: most calls stay read-only. */
const TOUCH_EVERY_MS = 60_000;

const ENDED = "your session has ended (signed out, expired, or its API key revoked): sign in again with an API key";

const hashToken = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");
const randomToken = () => randomBytes(32).toString("base64url");

export function createSessionService(deps: SessionDeps) {
  const { db, now, authenticator, audit } = deps;

  const viewOf = (row: repo.SessionRow, principal: Principal): SessionView => ({
    csrfToken: row.csrfToken,
    orgId: principal.orgId,
    userId: principal.userId,
    expiresAt: new Date(Math.min(row.lastSeenAt.getTime() + deps.idleMs, row.expiresAt.getTime())),
  });

  /**
   * Exchanges an API key for a new session; `token` goes into the cookie.
   * UnauthenticatedError or LimitExceededError as for any call with the key;
   * PermissionDeniedError for TRAINTRACK_ADMIN_KEY, which has no organisation to show.
   */
  async function signIn(apiKey: string, call: { source: string; requestId: string }): Promise<{ token: string; view: SessionView; principal: Principal }> {
    const principal = await authenticator.authenticate(apiKey, call.source);
    if (!principal.orgId) throw new PermissionDeniedError("TRAINTRACK_ADMIN_KEY cannot sign in to the web UI: sign in with the key of a user of an organisation");
    const at = now();
    const token = randomToken();
    const row: repo.SessionRow = {
      id: newId("ses"),
      tokenHash: hashToken(token),
      orgId: principal.orgId,
      keyId: principal.keyId,
      csrfToken: randomToken(),
      createdAt: at,
      lastSeenAt: at,
      expiresAt: new Date(at.getTime() + deps.maxMs),
    };
    await repo.insertSession(db, row);
    await repo.trimSessionsOfKey(db, principal.keyId, MAX_SESSIONS_PER_KEY);
    await repo.deleteExpired(db, at, new Date(at.getTime() - deps.idleMs), SWEEP_LIMIT);
    await audit.record(principal, { method: "Session/SignIn", resource: `session/${row.id}`, source: call.source, outcome: "ok", requestId: call.requestId });
    return { token, view: viewOf(row, principal), principal };
  }

  /** The session of a cookie's token and the principal it acts as; UnauthenticatedError when it has ended. */
  async function resolve(token: string): Promise<{ id: string; view: SessionView; principal: Principal }> {
    const row = token ? await repo.findSession(db, hashToken(token)) : undefined;
    if (!row) throw new UnauthenticatedError(ENDED);
    const at = now();
    if (row.expiresAt <= at || row.lastSeenAt.getTime() + deps.idleMs <= at.getTime()) {
      await repo.deleteSession(db, row.id);
      throw new UnauthenticatedError(ENDED);
    }
    const principal = await authenticator.authenticateHash(row.keyHash).catch(async (error: unknown) => {
      // The key no longer works: neither does any session of it, for good.
      if (error instanceof UnauthenticatedError) await repo.deleteSession(db, row.id);
      throw error instanceof UnauthenticatedError ? new UnauthenticatedError(ENDED) : error;
    });
    if (at.getTime() - row.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
      row.lastSeenAt = at;
      // Sliding the expiry is a courtesy: a failure here must not fail the call.
      await repo.touchSession(db, row.id, at).catch(() => undefined);
    }
    return { id: row.id, view: viewOf(row, principal), principal };
  }

  /** Whether `presented` is the session's CSRF token (compared in constant time). */
  function csrfMatches(view: SessionView, presented: string | null | undefined): boolean {
    const a = Buffer.from(view.csrfToken);
    const b = Buffer.from(presented ?? "");
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Ends a session (the caller has checked its CSRF token). */
  async function signOut(session: { id: string; principal: Principal }, call: { source: string; requestId: string }): Promise<void> {
    await repo.deleteSession(db, session.id);
    await audit.record(session.principal, { method: "Session/SignOut", resource: `session/${session.id}`, source: call.source, outcome: "ok", requestId: call.requestId });
  }

  return { signIn, resolve, csrfMatches, signOut };
}
