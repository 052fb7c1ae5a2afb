import type { ServiceImpl } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { AuditService } from "../../gen/traintrack/v1/audit_pb.js";
import type { AuditLog } from "../services/identity/index.js";
import { toAuditEvent } from "./identity-messages.js";
import { principalOf } from "./interceptors/auth.js";
import * as f from "./validate/fields.js";

export function auditHandlers(audit: AuditLog): ServiceImpl<typeof AuditService> {
  return {
    async listAuditEvents(req, ctx) {
      const page = await audit.list(principalOf(ctx).orgId, {
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
        since: req.since && timestampDate(req.since),
        until: req.until && timestampDate(req.until),
        userId: req.userId ? f.id("user_id", req.userId) : undefined,
        keyId: req.keyId ? f.id("key_id", req.keyId) : undefined,
        resource: req.resource ? f.text("resource", req.resource, 512) : undefined,
      });
      return { events: page.items.map(toAuditEvent), nextPageToken: page.nextPageToken };
    },
  };
}
