/**
 * API keys. A key's secret is 256 random bits, shown once; only its sha256 is
 * stored (nothing to brute-force that a slow hash would protect). A key never
 * carries more than its user's roles (the authenticator reads them at use),
 * and a key cannot make a key broader than itself.
 */
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { lockAccess } from "../../db/access-repo.js";
import { projectIdByName } from "../../db/grants-repo.js";
import * as keysRepo from "../../db/keys-repo.js";
import type { KeyRow } from "../../db/keys-repo.js";
import type { Database, KeyScope } from "../../db/schema.js";
import { findUser } from "../../db/users-repo.js";
import { FailedPreconditionError, InvalidInputError, NotFoundError, PermissionDeniedError } from "../errors.js";
import { newId } from "../ids.js";
import { decodeToken, isTimeCursor, type Page, pageOf } from "../page-tokens.js";
import { hashKey } from "./authenticator.js";
import type { Principal } from "./roles.js";

export type { KeyRow } from "../../db/keys-repo.js";

export interface KeySpec {
  name: string;
  /** Whose key: the caller's own when undefined. */
  userId?: string;
  scope: KeyScope;
  project?: string;
  expiresAt?: Date;
}

/** How much of the secret a list shows: "tt_" and 8 characters, 48 bits, enough to tell keys apart. */
const PREFIX_CHARS = 11;

export function generateSecret(): string {
  return `tt_${randomBytes(32).toString("base64url")}`;
}

export type KeyService = ReturnType<typeof createKeyService>;

export function createKeyService(deps: { db: Kysely<Database>; now: () => Date; accessChanged: (orgId: string) => void }) {
  const { db, now } = deps;

  /** Creates a key for the caller (or, for owners, any user); returns it with its secret, which is not kept. */
  async function create(caller: Principal, spec: KeySpec, secret = generateSecret()): Promise<{ key: KeyRow; secret: string }> {
    const { orgId } = caller;
    const userId = spec.userId || caller.userId;
    if (!userId) throw new InvalidInputError("user_id", "TRAINTRACK_ADMIN_KEY belongs to no user: name the user the key is for");
    const user = await findUser(db, orgId, userId);
    if (!user) throw new NotFoundError(`no user ${JSON.stringify(userId)} in this organisation`);
    if (!user.active) throw new FailedPreconditionError(`user ${JSON.stringify(userId)} is deactivated: its keys could not work; reactivate it first`);
    const projectId = spec.project === undefined ? null : ((await projectIdByName(db, orgId, spec.project)) ?? null);
    if (spec.project !== undefined && projectId === null) throw new NotFoundError(`no project ${JSON.stringify(spec.project)} in this organisation`);
    // A project key may only make keys for the same project; "all" keys make any.
    if (caller.keyScope !== "all" && !(caller.keyScope === "project" && spec.scope === "project" && projectId === caller.keyProjectId)) {
      throw new PermissionDeniedError(`a key of scope "${caller.keyScope}" cannot create a key of scope "${spec.scope}": use a key of scope all`);
    }
    if (spec.expiresAt && spec.expiresAt.getTime() <= now().getTime()) throw new InvalidInputError("expires_at", "expires_at is in the past: give a time in the future, or none");
    const key = await keysRepo.insertKey(db, orgId, {
      id: newId("key"),
      userId,
      name: spec.name,
      keyHash: hashKey(secret),
      prefix: secret.slice(0, PREFIX_CHARS),
      scope: spec.scope,
      projectId,
      expiresAt: spec.expiresAt ?? null,
    });
    return { key, secret };
  }

  async function get(orgId: string, id: string): Promise<KeyRow> {
    const key = await keysRepo.findKey(db, orgId, id);
    if (!key) throw new NotFoundError(`no API key ${JSON.stringify(id)} in this organisation`);
    return key;
  }

  async function list(orgId: string, q: { pageSize: number; pageToken: string; userId?: string; includeRevoked: boolean }): Promise<Page<KeyRow>> {
    const before = q.pageToken ? decodeToken(q.pageToken, isTimeCursor) : undefined;
    const rows = await keysRepo.listKeys(db, orgId, {
      userId: q.userId,
      includeRevoked: q.includeRevoked,
      before: before && { createdAt: new Date(before.t), id: before.id },
      limit: q.pageSize + 1,
    });
    return pageOf(rows, q.pageSize, (last) => ({ t: last.createdAt.toISOString(), id: last.id }));
  }

  /** Revokes a key at once on every replica (the notification goes out at commit). Idempotent. */
  async function revoke(orgId: string, id: string): Promise<KeyRow> {
    await get(orgId, id);
    await db.transaction().execute(async (trx) => {
      await lockAccess(trx, orgId);
      await keysRepo.revokeKey(trx, orgId, id, now());
    });
    deps.accessChanged(orgId);
    return get(orgId, id);
  }

  return { create, get, list, revoke };
}
