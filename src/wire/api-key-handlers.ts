import type { ServiceImpl } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ApiKeyService } from "../../gen/traintrack/v1/api_key_pb.js";
import { InvalidInputError, NotFoundError } from "../services/errors.js";
import { effectiveRole, type KeyService } from "../services/identity/index.js";
import { toKey } from "./identity-messages.js";
import { principalOf } from "./interceptors/auth.js";
import * as f from "./validate/fields.js";
import * as v from "./validate/identity.js";

const TEN_YEARS_MS = 10 * 366 * 24 * 3600 * 1000;

export function apiKeyHandlers(keys: KeyService, now: () => Date): ServiceImpl<typeof ApiKeyService> {
  return {
    async createApiKey(req, ctx) {
      const scope = v.keyScope("scope", req.scope);
      if ((scope === "project") !== Boolean(req.project)) {
        throw new InvalidInputError("project", scope === "project" ? "API_KEY_SCOPE_PROJECT needs the project's name" : "project is only for API_KEY_SCOPE_PROJECT");
      }
      let expiresAt: Date | undefined;
      if (req.expiresAt) {
        expiresAt = timestampDate(req.expiresAt);
        if (!(expiresAt.getTime() < now().getTime() + TEN_YEARS_MS)) throw new InvalidInputError("expires_at", "expires_at is more than 10 years ahead");
      }
      const spec = {
        name: v.keyName("name", req.name),
        userId: req.userId ? f.id("user_id", req.userId) : undefined,
        scope,
        project: req.project ? f.datasetName("project", req.project) : undefined,
        expiresAt,
      };
      const { key, secret } = await keys.create(principalOf(ctx), spec);
      return { key: toKey(key), secret };
    },
    async listApiKeys(req, ctx) {
      const caller = principalOf(ctx);
      const userId = req.allUsers ? undefined : req.userId ? f.id("user_id", req.userId) : caller.userId;
      const page = await keys.list(caller.orgId, {
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
        userId,
        includeRevoked: req.includeRevoked,
      });
      return { keys: page.items.map(toKey), nextPageToken: page.nextPageToken };
    },
    async revokeApiKey(req, ctx) {
      const caller = principalOf(ctx);
      const id = f.id("id", req.id);
      const key = await keys.get(caller.orgId, id);
      // Whose key it is shows only now; another user's key is NOT_FOUND to non-owners, as if it did not exist.
      if (key.userId !== caller.userId && effectiveRole(caller, undefined) !== "owner") throw new NotFoundError(`no API key ${JSON.stringify(id)} of yours`);
      return { key: toKey(await keys.revoke(caller.orgId, id)) };
    },
  };
}
