/**
 * API keys and organisations. A key is shown once, when created; only its
 * sha256 is stored. Keys are 256-bit random, so a plain hash is enough: there
 * is nothing to brute-force that a slow hash would protect.
 */
import { createHash, randomBytes } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.js";
import { UnauthenticatedError } from "./errors.js";
import { newId } from "./ids.js";

/** Who is calling: every read and write is scoped to `orgId`. */
export interface Principal {
  orgId: string;
  keyId: string;
}

export interface AuthServiceDeps {
  db: Kysely<Database>;
  now: () => Date;
  /** How long a verified key is trusted without asking the database again. */
  cacheMs?: number;
}

export type AuthService = ReturnType<typeof createAuthService>;

const CACHE_LIMIT = 10_000;

export function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export function createAuthService(deps: AuthServiceDeps) {
  const { db, now } = deps;
  const cacheMs = deps.cacheMs ?? 10_000;
  // Uploading 10,000 small files is 10,000 calls: don't pay a query for each.
  const cache = new Map<string, { principal: Principal; until: number }>();

  /** Resolves a presented key to its principal; UnauthenticatedError when unknown or revoked. */
  async function authenticate(key: string): Promise<Principal> {
    const keyHash = hashKey(key);
    const cached = cache.get(keyHash);
    if (cached && cached.until > now().getTime()) return cached.principal;
    const row = await db
      .selectFrom("apiKeys")
      .select(["id", "orgId"])
      .where("keyHash", "=", keyHash)
      .where("revokedAt", "is", null)
      .executeTakeFirst();
    if (!row) throw new UnauthenticatedError("the API key is not valid: check TRAINTRACK_API_KEY or ask an admin for a key");
    const principal = { orgId: row.orgId, keyId: row.id };
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(keyHash, { principal, until: now().getTime() + cacheMs });
    return principal;
  }

  /** Creates an organisation with one admin key; returns the key, which is never retrievable again. */
  async function createOrganization(name: string, key: string = generateKey(), trx: Kysely<Database> = db) {
    const orgId = newId("org");
    await trx.insertInto("organizations").values({ id: orgId, name }).execute();
    await trx.insertInto("apiKeys").values({ id: newId("key"), orgId, name: "admin", keyHash: hashKey(key), revokedAt: null }).execute();
    return { orgId, apiKey: key };
  }

  /**
   * On an empty database, creates the first organisation and its admin key
   * (`presetKey`, or a random one). Returns what was created, or undefined
   * when organisations exist already. Safe when several replicas start at once.
   */
  async function bootstrap(presetKey: string | undefined) {
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(7240531)`.execute(trx);
      const existing = await trx.selectFrom("organizations").select("id").limit(1).executeTakeFirst();
      if (existing) return undefined;
      return createOrganization("default", presetKey ?? generateKey(), trx);
    });
  }

  return { authenticate, createOrganization, bootstrap };
}

function generateKey(): string {
  return `tt_${randomBytes(32).toString("base64url")}`;
}
