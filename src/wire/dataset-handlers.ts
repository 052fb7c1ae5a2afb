import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { type DatasetService, type DatasetVersion, DatasetVersionSchema, DatasetSummarySchema } from "../../gen/traintrack/v1/dataset_pb.js";
import type { DatasetService as Datasets, DatasetVersionView } from "../services/datasets.js";
import { byteRange, downloadMessages, toArtefact } from "./artefact-stream.js";
import { principalOf } from "./interceptors/auth.js";
import { rawChunksKey } from "./raw-chunks.js";
import * as f from "./validate/fields.js";
import * as v from "./validate/datasets.js";

function toVersion(d: DatasetVersionView): DatasetVersion {
  return create(DatasetVersionSchema, {
    name: d.name,
    version: d.version,
    description: d.description,
    metadata: d.metadata,
    artefacts: d.artefacts.map(toArtefact),
    artefactsNextPageToken: d.artefactsNextPageToken,
    derivedFrom: d.derivedFrom,
    derivedFromCount: d.derivedFromCount,
    createdAt: timestampFromDate(d.createdAt),
    totalSize: BigInt(d.totalSize),
    artefactCount: d.artefactCount,
  });
}

export function datasetHandlers(datasets: Datasets): ServiceImpl<typeof DatasetService> {
  return {
    async createDataset(req, ctx) {
      return { dataset: toVersion(await datasets.create(principalOf(ctx).orgId, v.createDataset(req))) };
    },
    async getDataset(req, ctx) {
      return { dataset: toVersion(await datasets.get(principalOf(ctx).orgId, v.datasetOrLatest(req.name, req.version))) };
    },
    async listArtefacts(req, ctx) {
      const { dataset, ...opts } = v.listArtefacts(req);
      const page = await datasets.listArtefacts(principalOf(ctx).orgId, dataset, opts);
      return { artefacts: page.items.map(toArtefact), nextPageToken: page.nextPageToken };
    },
    async listDatasets(req, ctx) {
      const page = await datasets.list(principalOf(ctx).orgId, {
        prefix: f.text("name_prefix", req.namePrefix, 128),
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return {
        datasets: page.items.map((d) =>
          create(DatasetSummarySchema, {
            name: d.name,
            description: d.description,
            latestVersion: d.latestVersion,
            versionCount: d.versionCount,
            createdAt: timestampFromDate(d.createdAt),
            updatedAt: timestampFromDate(d.updatedAt),
          }),
        ),
        nextPageToken: page.nextPageToken,
      };
    },
    async listDatasetVersions(req, ctx) {
      const page = await datasets.listVersions(principalOf(ctx).orgId, {
        name: f.datasetName("name", req.name),
        pageSize: f.pageSize("page_size", req.pageSize),
        pageToken: f.pageToken("page_token", req.pageToken),
      });
      return { versions: page.items.map(toVersion), nextPageToken: page.nextPageToken };
    },
    async getLineage(req, ctx) {
      const graph = await datasets.lineage(principalOf(ctx).orgId, v.versionRef("dataset", req.dataset), v.lineageBounds(req));
      return {
        nodes: graph.nodes.map((n) => ({ dataset: n.ref, createdAt: timestampFromDate(n.createdAt) })),
        edges: graph.edges,
        truncated: graph.truncated,
      };
    },
    async *downloadArtefact(req, ctx) {
      const opened = await datasets.openArtefact(
        principalOf(ctx).orgId,
        v.versionRef("dataset", req.dataset),
        f.artefactPath("path", req.path) || f.fileName("path", req.path),
        byteRange(req),
      );
      yield* downloadMessages(opened, ctx.values.get(rawChunksKey));
    },
  };
}
