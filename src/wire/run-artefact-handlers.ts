import type { ServiceImpl } from "@connectrpc/connect";
import type { RunArtefactService } from "../../gen/traintrack/v1/run_artefact_pb.js";
import { InvalidInputError } from "../services/errors.js";
import type { RunArtefactService as RunArtefacts } from "../services/run-artefacts.js";
import { byteRange, downloadMessages, toArtefact } from "./artefact-stream.js";
import { principalOf } from "./interceptors/auth.js";
import { rawChunksKey } from "./raw-chunks.js";
import { artefactSources } from "./validate/datasets.js";
import * as f from "./validate/fields.js";

export function runArtefactHandlers(runArtefacts: RunArtefacts): ServiceImpl<typeof RunArtefactService> {
  return {
    async logRunArtefacts(req, ctx) {
      if (req.artefacts.length === 0) throw new InvalidInputError("artefacts", "artefacts is empty; name at least one upload");
      const { artefacts, added } = await runArtefacts.log(principalOf(ctx).orgId, f.id("run_id", req.runId), artefactSources(req.artefacts));
      return { artefacts: artefacts.map(toArtefact), added };
    },
    async listRunArtefacts(req, ctx) {
      const page = await runArtefacts.list(principalOf(ctx).orgId, f.id("run_id", req.runId), {
        prefix: f.text("path_prefix", req.pathPrefix, 1024),
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return { artefacts: page.items.map(toArtefact), nextPageToken: page.nextPageToken };
    },
    async *downloadRunArtefact(req, ctx) {
      const opened = await runArtefacts.open(
        principalOf(ctx).orgId,
        f.id("run_id", req.runId),
        f.artefactPath("path", req.path) || f.fileName("path", req.path),
        byteRange(req),
      );
      yield* downloadMessages(opened, ctx.values.get(rawChunksKey));
    },
  };
}
