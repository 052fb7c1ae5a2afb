import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { type Project, ProjectSchema, type ProjectService } from "../../gen/traintrack/v1/experiment_pb.js";
import type { ExperimentService as Experiments, ProjectView } from "../services/experiments.js";
import { effectiveRole, includes, type ScopeResolver } from "../services/identity/index.js";
import { principalOf } from "./interceptors/auth.js";
import * as f from "./validate/fields.js";

function toProject(p: ProjectView): Project {
  return create(ProjectSchema, { name: p.name, description: p.description, createdAt: timestampFromDate(p.createdAt) });
}

export function projectHandlers(experiments: Experiments, scopes: ScopeResolver): ServiceImpl<typeof ProjectService> {
  return {
    async createProject(req, ctx) {
      const input = { name: f.datasetName("name", req.name), description: f.text("description", req.description, 4096) };
      return { project: toProject(await experiments.createProject(principalOf(ctx).orgId, input)) };
    },
    async getProject(req, ctx) {
      return { project: toProject(await experiments.getProject(principalOf(ctx).orgId, f.datasetName("name", req.name))) };
    },
    async listProjects(req, ctx) {
      const caller = principalOf(ctx);
      const page = await experiments.listProjects(caller.orgId, {
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      // A caller with project grants only sees those projects (a page may then hold fewer than page_size).
      let items = page.items;
      if (!includes(effectiveRole(caller, undefined), "viewer")) {
        const ids = await Promise.all(items.map((p) => scopes.projectId(caller.orgId, p.name)));
        items = items.filter((_, i) => includes(effectiveRole(caller, ids[i]), "viewer"));
      }
      return { projects: items.map(toProject), nextPageToken: page.nextPageToken };
    },
  };
}
