/**
 * Turns a presented API key into a Principal: the key's user, organisation,
 * scope and every grant that applies.
 *
 * Answers are cached for `cacheMs` (10,000 small uploads are 10,000 calls), but
 * never across a change: every change to an organisation's access (a key
 * revoked, a user deactivated, a grant or a group changed) sends a database
 * notification at commit, and each replica drops that organisation's entries
 * when it arrives. While a replica cannot hear notifications (its listening
 * connection is lost), it does not cache at all. So a revoked key stops
 * working on the replica that revoked it when the call returns, and on every
 * other replica when the notification arrives (milliseconds), and never later
 * than `cacheMs` after it was checked last.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import { findUsableKey, grantsOfUser, touchKeys } from "../../db/access-repo.js";
import type { Database } from "../../db/schema.js";
import { LimitExceededError, UnauthenticatedError } from "../errors.js";
import type { FailureLimiter } from "./failure-limiter.js";
import { higher, type Principal, type Role } from "./roles.js";

export interface AuthenticatorDeps {
  db: Kysely<Database>;
  now: () => Date;
  cacheMs: number;
  /** TRAINTRACK_ADMIN_KEY: an instance administrator that belongs to no organisation. */
  adminKey: string | undefined;
  failures: FailureLimiter;
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

const CACHE_LIMIT = 10_000;
/** last_used_at is a hint for people reviewing keys: once a minute is precise enough and keeps calls read-only. */
const TOUCH_EVERY_MS = 60_000;

export function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

const INVALID = "the API key is not valid (unknown, revoked, expired, or its user deactivated): check TRAINTRACK_API_KEY or ask an owner for a key";

export function createAuthenticator(deps: AuthenticatorDeps) {
  const { db, now, failures } = deps;
  const cache = new Map<string, { principal: Principal; until: number; orgId: string }>();
  let caching = false;
  // Bumped by every forget: a lookup that started before a change must not cache what it read.
  let epoch = 0;
  const touched = new Map<string, number>();
  const adminHash = deps.adminKey ? Buffer.from(hashKey(deps.adminKey), "hex") : undefined;

  /** Resolves a key to its principal; UnauthenticatedError when it cannot be used, LimitExceededError when `source` failed too often. */
  async function authenticate(key: string, source: string): Promise<Principal> {
    const keyHash = hashKey(key);
    const cached = caching ? cache.get(keyHash) : undefined;
    if (cached && cached.until > Date.now()) return cached.principal;
    // A source that keeps presenting bad keys is refused without a lookup; keys
    // this replica has seen work recently still get one, so valid callers behind
    // the same address (a NAT, a proxy) are not slowed.
    if (failures.isBlocked(source) && !failures.knownGood(keyHash)) {
      throw new LimitExceededError(`too many failed authentications from ${source}: wait a minute, then retry with a valid key`);
    }
    const principal = await resolve(keyHash);
    if (!principal) {
      failures.failed(source);
      throw new UnauthenticatedError(INVALID);
    }
    failures.succeeded(keyHash);
    return principal;
  }

  /**
   * Resolves a key known by its hash (a web UI session's key) through the same
   * cache, so that the key's revocation or its user's deactivation ends the
   * session as soon as it stops the key. Not failure-limited: the session
   * token, not this hash, is what the caller presented.
   */
  async function authenticateHash(keyHash: string): Promise<Principal> {
    const principal = await resolve(keyHash);
    if (!principal) throw new UnauthenticatedError(INVALID);
    return principal;
  }

  async function resolve(keyHash: string): Promise<Principal | undefined> {
    const cached = caching ? cache.get(keyHash) : undefined;
    if (cached && cached.until > Date.now()) return cached.principal;
    const startedAt = epoch;
    const found = adminHash && timingSafeEqual(adminHash, Buffer.from(keyHash, "hex")) ? { principal: instanceAdmin(), expiresAt: null } : await lookUp(keyHash);
    const principal = found?.principal;
    if (!principal) return undefined;
    if (caching && epoch === startedAt && principal.orgId) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      // An expiring key leaves the cache when it expires, not later.
      const until = Math.min(Date.now() + deps.cacheMs, found.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
      cache.set(keyHash, { principal, until, orgId: principal.orgId });
    }
    return principal;
  }

  async function lookUp(keyHash: string): Promise<{ principal: Principal; expiresAt: Date | null } | undefined> {
    const at = now();
    const key = await findUsableKey(db, keyHash, at);
    if (!key) return undefined;
    const grants = await grantsOfUser(db, key.orgId, key.userId);
    let orgRole: Role | undefined;
    const projectRoles = new Map<string, Role>();
    for (const g of grants) {
      if (g.projectId === null) orgRole = higher(orgRole, g.role);
      else projectRoles.set(g.projectId, higher(projectRoles.get(g.projectId), g.role) as Role);
    }
    noteUse(key.keyId, key.lastUsedAt, at);
    const principal: Principal = {
      orgId: key.orgId,
      userId: key.userId,
      keyId: key.keyId,
      instanceAdmin: key.instanceAdmin && key.scope === "all",
      keyScope: key.scope,
      keyProjectId: key.projectId,
      orgRole,
      projectRoles,
    };
    return { principal, expiresAt: key.expiresAt };
  }

  function noteUse(keyId: string, lastUsedAt: Date | null, at: Date): void {
    const last = Math.max(lastUsedAt?.getTime() ?? 0, touched.get(keyId) ?? 0);
    if (at.getTime() - last < TOUCH_EVERY_MS) return;
    if (touched.size >= CACHE_LIMIT) touched.clear();
    touched.set(keyId, at.getTime());
    // A hint, not a record: a failed update is not worth failing the call for.
    touchKeys(db, [keyId], at).catch(() => undefined);
  }

  /** Forgets what is cached about an organisation's keys ("*": every organisation's). */
  function forget(orgId: string): void {
    epoch += 1;
    if (orgId === "*") return cache.clear();
    for (const [hash, entry] of cache) if (entry.orgId === orgId) cache.delete(hash);
  }

  /** Caches only while every access change is sure to be heard (see the module comment). */
  function setCaching(on: boolean): void {
    caching = on;
    epoch += 1;
    if (!on) cache.clear();
  }

  return { authenticate, authenticateHash, forget, setCaching };
}

function instanceAdmin(): Principal {
  return { orgId: "", userId: "", keyId: "admin-key", instanceAdmin: true, keyScope: "all", keyProjectId: null, orgRole: undefined, projectRoles: new Map() };
}
