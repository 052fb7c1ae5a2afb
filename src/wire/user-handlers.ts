import type { ServiceImpl } from "@connectrpc/connect";
import type { UserService } from "../../gen/traintrack/v1/user_pb.js";
import { InvalidInputError } from "../services/errors.js";
import { MAX_MEMBERS_PER_CALL, type UserDirectory } from "../services/identity/index.js";
import { toGroup, toUser } from "./identity-messages.js";
import { principalOf } from "./interceptors/auth.js";
import * as f from "./validate/fields.js";
import * as v from "./validate/identity.js";

function ids(field: string, values: string[]): string[] {
  if (values.length > MAX_MEMBERS_PER_CALL) throw new InvalidInputError(field, `${field} holds ${values.length} ids; at most ${MAX_MEMBERS_PER_CALL} per call`);
  return values.map((id, i) => f.id(`${field}[${i}]`, id));
}

export function userHandlers(users: UserDirectory): ServiceImpl<typeof UserService> {
  return {
    async createUser(req, ctx) {
      const user = {
        userName: v.userName("user_name", req.userName),
        displayName: v.displayName("display_name", req.displayName),
        email: v.email("email", req.email),
        serviceAccount: false,
        externalId: "",
        active: true,
      };
      return { user: toUser(await users.createUser(principalOf(ctx).orgId, user, v.role("role", req.role, true))) };
    },
    async getUser(req, ctx) {
      const { orgId } = principalOf(ctx);
      if (Boolean(req.id) === Boolean(req.userName)) throw new InvalidInputError("id", "give exactly one of id and user_name");
      const user = req.id ? await users.getUser(orgId, f.id("id", req.id)) : await users.getUserByName(orgId, v.userName("user_name", req.userName));
      return { user: toUser(user) };
    },
    async listUsers(req, ctx) {
      const page = await users.listUsers(principalOf(ctx).orgId, {
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
        groupId: req.groupId ? f.id("group_id", req.groupId) : undefined,
        includeInactive: req.includeInactive,
      });
      return { users: page.items.map(toUser), nextPageToken: page.nextPageToken };
    },
    async updateUser(req, ctx) {
      const changes = {
        displayName: req.displayName === undefined ? undefined : v.displayName("display_name", req.displayName),
        email: req.email === undefined ? undefined : v.email("email", req.email),
        active: req.active,
      };
      const { user } = await users.updateUser(principalOf(ctx).orgId, f.id("id", req.id), changes);
      return { user: toUser(user) };
    },
    async deactivateUser(req, ctx) {
      const { user, keysRevoked } = await users.updateUser(principalOf(ctx).orgId, f.id("id", req.id), { active: false });
      return { user: toUser(user), keysDisabled: keysRevoked };
    },
    async createServiceAccount(req, ctx) {
      const account = {
        userName: v.userName("name", req.name),
        displayName: v.displayName("display_name", req.displayName),
        email: "",
        serviceAccount: true,
        externalId: "",
        active: true,
      };
      return { user: toUser(await users.createUser(principalOf(ctx).orgId, account, v.role("role", req.role, true))) };
    },
    async createGroup(req, ctx) {
      const group = { displayName: v.groupName("display_name", req.displayName), externalId: "", memberIds: ids("member_ids", req.memberIds) };
      return { group: toGroup(await users.createGroup(principalOf(ctx).orgId, group)) };
    },
    async listGroups(req, ctx) {
      const page = await users.listGroups(principalOf(ctx).orgId, {
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
        memberId: req.memberId ? f.id("member_id", req.memberId) : undefined,
      });
      return { groups: page.items.map(toGroup), nextPageToken: page.nextPageToken };
    },
    async addGroupMembers(req, ctx) {
      return { group: toGroup(await users.changeGroup(principalOf(ctx).orgId, f.id("group_id", req.groupId), { add: ids("user_ids", req.userIds) })) };
    },
    async removeGroupMembers(req, ctx) {
      return { group: toGroup(await users.changeGroup(principalOf(ctx).orgId, f.id("group_id", req.groupId), { remove: ids("user_ids", req.userIds) })) };
    },
    async deleteGroup(req, ctx) {
      await users.deleteGroup(principalOf(ctx).orgId, f.id("group_id", req.groupId));
      return {};
    },
  };
}
