/**
 * Organisations, the tenants of an instance. Each is created with its first
 * owner and that owner's key, so that the instance administrator can hand it
 * over. The very first, made on an empty database, is "default", and its
 * owner "admin" is also the instance administrator.
 */
import { type Kysely, sql } from "kysely";
import { upsertGrant } from "../../db/grants-repo.js";
import { insertKey, type KeyRow } from "../../db/keys-repo.js";
import * as repo from "../../db/organizations-repo.js";
import type { OrganizationRow } from "../../db/organizations-repo.js";
import { isUniqueViolation } from "../../db/pg-errors.js";
import type { Database } from "../../db/schema.js";
import { insertUser, type UserRow } from "../../db/users-repo.js";
import { AlreadyExistsError, NotFoundError } from "../errors.js";
import { newId } from "../ids.js";
import { decodeToken, isString, type Page, pageOf } from "../page-tokens.js";
import { hashKey } from "./authenticator.js";
import { generateSecret } from "./keys.js";

export type { OrganizationRow } from "../../db/organizations-repo.js";

export interface CreatedOrganization {
  organization: OrganizationRow;
  owner: UserRow;
  ownerKey: KeyRow;
  /** Shown once. */
  ownerKeySecret: string;
}

export type OrganizationService = ReturnType<typeof createOrganizationService>;

/** Serialises the first start of several replicas on one empty database. */
const BOOTSTRAP_LOCK = 7240531;

export function createOrganizationService(deps: { db: Kysely<Database> }) {
  const { db } = deps;

  async function createIn(
    trx: Kysely<Database>,
    o: { name: string; ownerUserName: string; ownerEmail: string; instanceAdmin: boolean; secret: string },
  ): Promise<CreatedOrganization> {
    const orgId = newId("org");
    const organization = await repo.insertOrganization(trx, orgId, o.name);
    const owner = await insertUser(trx, orgId, {
      id: newId("u"),
      userName: o.ownerUserName,
      displayName: "",
      email: o.ownerEmail,
      active: true,
      serviceAccount: false,
      instanceAdmin: o.instanceAdmin,
      externalId: "",
    });
    await upsertGrant(trx, orgId, newId("gr"), { role: "owner", userId: owner.id, groupId: null, projectId: null });
    const ownerKey = await insertKey(trx, orgId, {
      id: newId("key"),
      userId: owner.id,
      name: "owner",
      keyHash: hashKey(o.secret),
      prefix: o.secret.startsWith("tt_") ? o.secret.slice(0, 11) : "",
      scope: "all",
      projectId: null,
      expiresAt: null,
    });
    return { organization, owner, ownerKey, ownerKeySecret: o.secret };
  }

  /** Creates an organisation with its owner and the owner's key; ALREADY_EXISTS for a name in use. */
  async function create(o: { name: string; ownerUserName: string; ownerEmail: string }): Promise<CreatedOrganization> {
    try {
      return await db.transaction().execute((trx) => createIn(trx, { ...o, instanceAdmin: false, secret: generateSecret() }));
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`an organisation named ${JSON.stringify(o.name)} exists already`);
      throw error;
    }
  }

  /**
   * On an empty database, creates "default" with its owner "admin", who is
   * also the instance administrator, and a key (`presetKey`, or a random one).
   * Undefined when organisations exist already. Safe when replicas start at once.
   */
  async function bootstrap(presetKey: string | undefined): Promise<CreatedOrganization | undefined> {
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
      if (await repo.anyOrganizationExists(trx)) return undefined;
      return createIn(trx, { name: "default", ownerUserName: "admin", ownerEmail: "", instanceAdmin: true, secret: presetKey ?? generateSecret() });
    });
  }

  async function get(id: string): Promise<OrganizationRow> {
    const row = await repo.findOrganization(db, id);
    if (!row) throw new NotFoundError(`no organisation ${JSON.stringify(id)}`);
    return row;
  }

  async function list(q: { pageSize: number; pageToken: string }): Promise<Page<OrganizationRow>> {
    const after = q.pageToken ? decodeToken(q.pageToken, isString) : undefined;
    const rows = await repo.listOrganizations(db, after, q.pageSize + 1);
    return pageOf(rows, q.pageSize, (last) => last.name);
  }

  return { create, bootstrap, get, list };
}
