/** The audit log: append-only rows, read newest first. */
import type { Kysely, Selectable } from "kysely";
import type { AuditEventsTable, Database } from "./schema.js";

export type AuditRow = Selectable<AuditEventsTable>;

export async function insertEvents(db: Kysely<Database>, rows: AuditRow[]): Promise<void> {
  if (rows.length > 0) await db.insertInto("auditEvents").values(rows).execute();
}

export interface AuditFilter {
  since?: Date;
  until?: Date;
  userId?: string;
  keyId?: string;
  /** Exact, or a prefix when it ends in "/". */
  resource?: string;
  before?: { at: Date; id: string };
  limit: number;
}

export async function listEvents(db: Kysely<Database>, orgId: string, f: AuditFilter): Promise<AuditRow[]> {
  let q = db.selectFrom("auditEvents").selectAll().where("orgId", "=", orgId);
  if (f.since) q = q.where("at", ">=", f.since);
  if (f.until) q = q.where("at", "<", f.until);
  if (f.userId) q = q.where("userId", "=", f.userId);
  if (f.keyId) q = q.where("keyId", "=", f.keyId);
  if (f.resource) {
    const r = f.resource;
    q = r.endsWith("/") ? q.where("resource", "like", `${r.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : q.where("resource", "=", r);
  }
  if (f.before) {
    const b = f.before;
    q = q.where((eb) => eb.or([eb("at", "<", b.at), eb.and([eb("at", "=", b.at), eb("id", "<", b.id)])]));
  }
  return q.orderBy("at", "desc").orderBy("id", "desc").limit(f.limit).execute();
}
