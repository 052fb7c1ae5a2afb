import type { ServiceImpl } from "@connectrpc/connect";
import type { OrganizationService } from "../../gen/traintrack/v1/organization_pb.js";
import type { OrganizationService as Organizations } from "../services/identity/index.js";
import { toKey, toOrganization, toUser } from "./identity-messages.js";
import { principalOf } from "./interceptors/auth.js";
import * as f from "./validate/fields.js";
import * as v from "./validate/identity.js";

export function organizationHandlers(organizations: Organizations): ServiceImpl<typeof OrganizationService> {
  return {
    async createOrganization(req) {
      const created = await organizations.create({
        name: v.organizationName("name", req.name),
        ownerUserName: req.ownerUserName ? v.userName("owner_user_name", req.ownerUserName) : "admin",
        ownerEmail: v.email("owner_email", req.ownerEmail),
      });
      return {
        organization: toOrganization(created.organization),
        owner: toUser(created.owner),
        ownerKey: toKey(created.ownerKey),
        ownerKeySecret: created.ownerKeySecret,
      };
    },
    async getOrganization(req, ctx) {
      const id = req.id ? f.id("id", req.id) : principalOf(ctx).orgId;
      return { organization: toOrganization(await organizations.get(id)) };
    },
    async listOrganizations(req) {
      const page = await organizations.list({ pageSize: f.pageSize("page_size", req.pageSize), pageToken: f.pageToken("page_token", req.pageToken) });
      return { organizations: page.items.map(toOrganization), nextPageToken: page.nextPageToken };
    },
  };
}
