import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  LineageDirection,
  LineageEdgeKind,
  LineageGraphEdgeSchema,
  LineageGraphNodeSchema,
  LineageNodeKind,
  type LineageService,
} from "../../gen/traintrack/v1/lineage_pb.js";
import { InvalidInputError } from "../services/errors.js";
import { effectiveRole, includes } from "../services/identity/index.js";
import type { createLineageGraph, Direction, EdgeKind, NodeKind, StartNode } from "../services/lineage-graph.js";
import { DEFAULT_LINEAGE_NODES, MAX_LINEAGE_NODES } from "../services/read-limits.js";
import { principalOf } from "./interceptors/auth.js";
import { versionRef } from "./validate/datasets.js";
import * as f from "./validate/fields.js";
import { modelName, version } from "./validate/models.js";
import { externalName } from "./validate/pipelines.js";

const KINDS: Record<NodeKind, LineageNodeKind> = {
  dataset: LineageNodeKind.DATASET_VERSION,
  run: LineageNodeKind.RUN,
  model: LineageNodeKind.MODEL_VERSION,
  pipeline_run: LineageNodeKind.PIPELINE_RUN,
  step: LineageNodeKind.PIPELINE_STEP,
  external: LineageNodeKind.EXTERNAL_DATASET,
};
const EDGES: Record<EdgeKind, LineageEdgeKind> = {
  derived_from: LineageEdgeKind.DERIVED_FROM,
  read_by: LineageEdgeKind.READ_BY,
  produced: LineageEdgeKind.PRODUCED,
  registered_as: LineageEdgeKind.REGISTERED_AS,
  contains: LineageEdgeKind.CONTAINS,
  tracked_as: LineageEdgeKind.TRACKED_AS,
};
const DIRECTIONS: Partial<Record<LineageDirection, Direction>> = {
  [LineageDirection.UNSPECIFIED]: "both",
  [LineageDirection.UPSTREAM]: "upstream",
  [LineageDirection.DOWNSTREAM]: "downstream",
};
const MAX_DEPTH = 20;

export function lineageHandlers(graph: ReturnType<typeof createLineageGraph>): ServiceImpl<typeof LineageService> {
  return {
    async getLineageGraph(req, ctx) {
      const caller = principalOf(ctx);
      let start: StartNode;
      if (req.start.case === "dataset") start = { kind: "dataset", ...versionRef("dataset", req.start.value) };
      else if (req.start.case === "runId") start = { kind: "run", runId: f.id("run_id", req.start.value) };
      else if (req.start.case === "model") start = { kind: "model", name: modelName("model.model", req.start.value.model), version: version("model.version", req.start.value.version) };
      else if (req.start.case === "pipelineRunId") start = { kind: "pipeline_run", id: f.id("pipeline_run_id", req.start.value) };
      else if (req.start.case === "external") {
        start = { kind: "external", namespace: externalName("external.namespace", req.start.value.namespace), name: externalName("external.name", req.start.value.name) };
      } else throw new InvalidInputError("start", "give the node to start from: a dataset version, a run id, a model version, a pipeline run id or an external dataset");
      if (req.depth < 0 || req.depth > MAX_DEPTH) throw new InvalidInputError("depth", `depth must be between 0 and ${MAX_DEPTH}`);
      const direction = DIRECTIONS[req.direction];
      if (!direction) throw new InvalidInputError("direction", "direction must be UPSTREAM, DOWNSTREAM or unspecified (both)");
      const kinds = req.kinds.map((k, i) => {
        const kind = (Object.keys(KINDS) as NodeKind[]).find((n) => KINDS[n] === k);
        if (!kind) throw new InvalidInputError(`kinds[${i}]`, `kinds[${i}] is not a node kind: DATASET_VERSION, RUN, MODEL_VERSION, PIPELINE_RUN, PIPELINE_STEP or EXTERNAL_DATASET`);
        return kind;
      });
      const result = await graph.walk(caller.orgId, start, {
        depth: req.depth || 3,
        direction,
        kinds: kinds.length > 0 ? new Set(kinds) : undefined,
        maxNodes: f.pageSize("max_nodes", req.maxNodes, DEFAULT_LINEAGE_NODES, MAX_LINEAGE_NODES),
        // Datasets belong to the organisation; runs and models to their project (or the organisation).
        canSee: (_kind, projectId) => includes(effectiveRole(caller, projectId ?? undefined), "viewer"),
      });
      return {
        nodes: result.nodes.map((n) =>
          create(LineageGraphNodeSchema, {
            kind: KINDS[n.kind],
            id: n.key,
            dataset: n.dataset,
            runId: n.kind === "run" ? n.id : "",
            model: n.model && { model: n.model.name, version: BigInt(n.model.version) },
            label: n.label,
            pipelineRunId: n.kind === "pipeline_run" ? n.id : n.kind === "step" ? n.id.slice(0, n.id.indexOf("/")) : "",
            step: n.kind === "step" ? n.id.slice(n.id.indexOf("/") + 1) : "",
            external: n.external,
            createdAt: timestampFromDate(n.createdAt),
            distance: n.distance,
          }),
        ),
        edges: result.edges.map((e) => create(LineageGraphEdgeSchema, { kind: EDGES[e.kind], from: e.from, to: e.to })),
        truncated: result.truncated,
      };
    },
  };
}
