/**
 * The audit log. An event is written before the call it records answers (a
 * write whose event was lost would be a write nobody can account for), in
 * batches: many calls finishing at once cost one insert, as uploads' rows do.
 */
import type { Kysely } from "kysely";
import * as repo from "../../db/audit-repo.js";
import type { AuditRow } from "../../db/audit-repo.js";
import type { Database } from "../../db/schema.js";
import { isRefusedValue } from "../../db/uploads-repo.js";
import { coalesce } from "../../util/coalesce.js";
import { newId } from "../ids.js";
import type { Principal } from "./roles.js";
import { decodeToken, isTimeCursor, type Page, pageOf } from "../page-tokens.js";

/** What an audit event says of the call itself; who made it comes from the principal. */
export type AuditedCall = Pick<AuditRow, "method" | "resource" | "source" | "outcome" | "requestId">;
export type { AuditRow } from "../../db/audit-repo.js";

export type AuditLog = ReturnType<typeof createAuditLog>;

export function createAuditLog(deps: { db: Kysely<Database> }) {
  const { db } = deps;
  const insert = coalesce(
    async (rows: AuditRow[]) => {
      await repo.insertEvents(db, rows);
      return rows.map(() => undefined);
    },
    { maxBatch: 500, maxInFlight: 4, isolate: isRefusedValue },
  );

  /** Records a call `principal` made, now; resolves once it is stored. Resources come from requests, refused ones too: stored tamed. */
  const record = (principal: Principal, call: AuditedCall): Promise<void> =>
    insert({ id: newId("ev"), orgId: principal.orgId || null, at: new Date(), userId: principal.userId, keyId: principal.keyId, ...call, resource: tame(call.resource) });

  async function list(
    orgId: string,
    q: Omit<repo.AuditFilter, "before" | "limit"> & { pageSize: number; pageToken: string },
  ): Promise<Page<AuditRow>> {
    const before = q.pageToken ? decodeToken(q.pageToken, isTimeCursor) : undefined;
    const rows = await repo.listEvents(db, orgId, { ...q, before: before && { at: new Date(before.t), id: before.id }, limit: q.pageSize + 1 });
    return pageOf(rows, q.pageSize, (last) => ({ t: last.at.toISOString(), id: last.id }));
  }

  return { record, list };
}

/** No control characters (NUL cannot be stored; others hide in terminals), at most 512 characters. */
const tame = (text: string): string => text.replace(/\p{Cc}/gu, "?").slice(0, 512);
