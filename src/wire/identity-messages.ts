/** Domain rows of the identity capability as proto messages. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Grant, GrantSchema } from "../../gen/traintrack/v1/access_pb.js";
import { type ApiKey, ApiKeySchema } from "../../gen/traintrack/v1/api_key_pb.js";
import { type AuditEvent, AuditEventSchema } from "../../gen/traintrack/v1/audit_pb.js";
import { type Organization, OrganizationSchema } from "../../gen/traintrack/v1/organization_pb.js";
import { type Group, GroupSchema, type User, UserSchema } from "../../gen/traintrack/v1/user_pb.js";
import type { AuditRow, GrantRow, GroupRow, KeyRow, OrganizationRow, UserRow } from "../services/identity/index.js";
import { ROLE_VALUES, SCOPE_VALUES } from "./validate/identity.js";

const ts = (d: Date | null) => (d ? timestampFromDate(d) : undefined);

export function toUser(u: UserRow): User {
  return create(UserSchema, {
    id: u.id,
    userName: u.userName,
    displayName: u.displayName,
    email: u.email,
    active: u.active,
    serviceAccount: u.serviceAccount,
    externalId: u.externalId,
    createdAt: ts(u.createdAt),
    updatedAt: ts(u.updatedAt),
  });
}

export function toGroup(g: GroupRow): Group {
  return create(GroupSchema, { id: g.id, displayName: g.displayName, externalId: g.externalId, memberCount: g.memberCount, createdAt: ts(g.createdAt) });
}

export function toKey(k: KeyRow): ApiKey {
  return create(ApiKeySchema, {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    userId: k.userId,
    scope: SCOPE_VALUES[k.scope],
    project: k.project ?? "",
    createdAt: ts(k.createdAt),
    lastUsedAt: ts(k.lastUsedAt),
    expiresAt: ts(k.expiresAt),
    revokedAt: ts(k.revokedAt),
  });
}

export function toGrant(g: GrantRow): Grant {
  return create(GrantSchema, {
    id: g.id,
    role: ROLE_VALUES[g.role],
    userId: g.userId ?? "",
    groupId: g.groupId ?? "",
    project: g.project ?? "",
    createdAt: ts(g.createdAt),
  });
}

export function toOrganization(o: OrganizationRow): Organization {
  return create(OrganizationSchema, { id: o.id, name: o.name, createdAt: ts(o.createdAt) });
}

export function toAuditEvent(e: AuditRow): AuditEvent {
  return create(AuditEventSchema, {
    id: e.id,
    time: ts(e.at),
    userId: e.userId,
    keyId: e.keyId,
    method: e.method,
    resource: e.resource,
    source: e.source,
    outcome: e.outcome,
    requestId: e.requestId,
  });
}
