import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type AliasMove,
  AliasMoveSchema,
  type ModelAlias,
  ModelAliasSchema,
  type ModelFile,
  ModelFileSchema,
  type ModelService,
  type ModelVersion,
  ModelVersionSchema,
  type RegisteredModel,
  RegisteredModelSchema,
} from "../../gen/traintrack/v1/model_pb.js";
import { readableProjects } from "../services/identity/index.js";
import type { AliasMoveRow, AliasRow, ModelFileRow, ModelService as Models, ModelView, VersionView } from "../services/models/index.js";
import { byteRange, downloadMessages } from "./artefact-stream.js";
import { principalOf } from "./interceptors/auth.js";
import { rawChunksKey } from "./raw-chunks.js";
import * as f from "./validate/fields.js";
import * as v from "./validate/models.js";

const ts = (d: Date) => timestampFromDate(d);

const toAlias = (a: AliasRow): ModelAlias => create(ModelAliasSchema, { alias: a.alias, version: BigInt(a.version), protected: a.protected, updatedAt: ts(a.updatedAt) });

export const toModelFile = (file: ModelFileRow): ModelFile =>
  create(ModelFileSchema, { path: file.path, size: BigInt(file.size), sha256: file.sha256, mediaType: file.mediaType });

function toModel(m: ModelView): RegisteredModel {
  return create(RegisteredModelSchema, {
    name: m.name,
    project: m.project,
    description: m.description,
    tags: m.tags,
    latestVersion: BigInt(m.latestVersion),
    aliases: m.aliases.map(toAlias),
    createdAt: ts(m.createdAt),
    updatedAt: ts(m.updatedAt),
  });
}

function toVersion(mv: VersionView): ModelVersion {
  return create(ModelVersionSchema, {
    model: mv.model,
    version: BigInt(mv.version),
    runId: mv.runId ?? "",
    framework: mv.framework,
    signature: mv.signature,
    description: mv.description,
    tags: mv.tags,
    files: mv.files.map(toModelFile),
    fileCount: mv.fileCount,
    totalSize: BigInt(mv.totalSize),
    aliases: mv.aliases,
    createdAt: ts(mv.createdAt),
    createdBy: mv.createdBy,
    sortMetric: mv.sortMetric ?? undefined,
  });
}

const toMove = (m: AliasMoveRow): AliasMove =>
  create(AliasMoveSchema, {
    alias: m.alias,
    fromVersion: BigInt(m.fromVersion ?? 0),
    toVersion: BigInt(m.toVersion ?? 0),
    userId: m.userId,
    keyId: m.keyId,
    reason: m.reason,
    time: ts(m.at),
  });


export function modelHandlers(models: Models): ServiceImpl<typeof ModelService> {
  return {
    async createRegisteredModel(req, ctx) {
      const input = {
        name: v.modelName("name", req.name),
        project: req.project ? f.datasetName("project", req.project) : "",
        description: v.description("description", req.description),
        tags: v.tags("tags", req.tags),
      };
      return { model: toModel(await models.createModel(principalOf(ctx).orgId, input)) };
    },
    async getRegisteredModel(req, ctx) {
      return { model: toModel(await models.getModel(principalOf(ctx).orgId, v.modelName("name", req.name))) };
    },
    async listRegisteredModels(req, ctx) {
      const caller = principalOf(ctx);
      const page = await models.listModels(caller.orgId, {
        project: req.project ? f.datasetName("project", req.project) : "",
        prefix: f.text("name_prefix", req.namePrefix, 128),
        visibleProjectIds: readableProjects(caller),
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return { models: page.items.map(toModel), nextPageToken: page.nextPageToken };
    },
    async updateRegisteredModel(req, ctx) {
      const change = {
        description: req.description === undefined ? undefined : v.description("description", req.description),
        setTags: v.tags("set_tags", req.setTags),
        removeTags: v.removeTags("remove_tags", req.removeTags),
      };
      return { model: toModel(await models.updateModel(principalOf(ctx).orgId, v.modelName("name", req.name), change)) };
    },
    async createModelVersion(req, ctx) {
      const caller = principalOf(ctx);
      const { version, created } = await models.createVersion(caller.orgId, v.createVersion(req, caller.userId));
      return { version: toVersion(version), created };
    },
    async getModelVersion(req, ctx) {
      return { version: toVersion(await models.getVersion(principalOf(ctx).orgId, v.modelName("model", req.model), v.selector(req.selector))) };
    },
    async listModelVersions(req, ctx) {
      const page = await models.listVersions(principalOf(ctx).orgId, v.modelName("model", req.model), {
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return { versions: page.items.map(toVersion), nextPageToken: page.nextPageToken };
    },
    async listModelFiles(req, ctx) {
      const page = await models.listFiles(principalOf(ctx).orgId, v.modelName("model", req.model), v.version("version", req.version), {
        prefix: f.text("path_prefix", req.pathPrefix, 1024),
        pageSize: f.pageSize("page_size", req.pageSize, 1000, 10_000),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return { files: page.items.map(toModelFile), nextPageToken: page.nextPageToken };
    },
    async searchModelVersions(req, ctx) {
      const caller = principalOf(ctx);
      const visible = readableProjects(caller);
      const page = await models.search(caller.orgId, { ...v.search(req), visibleProjectIds: visible, includeUnscoped: visible === undefined });
      return { versions: page.items.map(toVersion), nextPageToken: page.nextPageToken };
    },
    async updateModelVersion(req, ctx) {
      const change = {
        description: req.description === undefined ? undefined : v.description("description", req.description),
        setTags: v.tags("set_tags", req.setTags),
        removeTags: v.removeTags("remove_tags", req.removeTags),
      };
      const mv = await models.updateVersion(principalOf(ctx).orgId, v.modelName("model", req.model), v.version("version", req.version), change);
      return { version: toVersion(mv) };
    },
    async setModelAlias(req, ctx) {
      const { alias, previous } = await models.setAlias(principalOf(ctx), v.modelName("model", req.model), {
        alias: v.alias("alias", req.alias),
        version: v.version("version", req.version),
        reason: f.text("reason", req.reason, 1000),
        protect: req.protected,
      });
      return { alias: toAlias(alias), previousVersion: BigInt(previous) };
    },
    async deleteModelAlias(req, ctx) {
      await models.deleteAlias(principalOf(ctx), v.modelName("model", req.model), v.alias("alias", req.alias), f.text("reason", req.reason, 1000));
      return {};
    },
    async getModelAliasHistory(req, ctx) {
      const page = await models.aliasHistory(principalOf(ctx).orgId, v.modelName("model", req.model), {
        alias: req.alias ? v.alias("alias", req.alias) : undefined,
        at: req.at ? timestampDate(req.at) : undefined,
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return { moves: page.items.map(toMove), nextPageToken: page.nextPageToken, versionAt: BigInt(page.versionAt) };
    },
    async *downloadModelFile(req, ctx) {
      const opened = await models.openFile(
        principalOf(ctx).orgId,
        v.modelName("model", req.model),
        v.selector(req.selector),
        f.artefactPath("path", req.path) || f.fileName("path", req.path),
        byteRange(req),
      );
      // The same stream as an artefact's: a description first (here a ModelFile, the same fields), then chunks.
      for await (const { payload } of downloadMessages(opened, ctx.values.get(rawChunksKey))) {
        yield { payload: payload.case === "chunk" ? payload : { case: "file" as const, value: toModelFile(opened.artefact) } };
      }
    },
  };
}
