/**
 * Where a lineage graph starts, as it reads in a URL: /lineage/:kind/:id with
 *   dataset/<name>@<version>   run/<run id>   model/<name>@<version>
 *   pipeline-run/<id>          external/<namespace>|<name>
 * Other areas link here with lineagePath(); each node links to its own page
 * with nodePage().
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type GetLineageGraphRequestSchema, type LineageGraphNode, LineageNodeKind } from "@gen/traintrack/v1/lineage_pb.js";
import { path } from "../../router.js";

export type StartKind = "dataset" | "run" | "model" | "pipeline-run" | "external";
export interface Start {
  kind: StartKind;
  id: string;
}

export function lineagePath(start: Start): string {
  return path`/lineage/${start.kind}/${start.id}`;
}

/** "kind/id": a start as one string, for the list of expanded nodes in the URL. */
export function startKey(s: Start): string {
  return `${s.kind}/${s.id}`;
}

export function parseStartKey(key: string): Start | undefined {
  const slash = key.indexOf("/");
  if (slash < 0) return undefined;
  return { kind: key.slice(0, slash) as StartKind, id: key.slice(slash + 1) };
}

function splitLast(s: string, sep: string): [string, string] | undefined {
  const at = s.lastIndexOf(sep);
  return at > 0 && at < s.length - 1 ? [s.slice(0, at), s.slice(at + 1)] : undefined;
}

/** The request's start for a URL start, or undefined when the URL cannot be one. */
export function startRequest(s: Start): MessageInitShape<typeof GetLineageGraphRequestSchema>["start"] | undefined {
  switch (s.kind) {
    case "run":
      return s.id ? { case: "runId", value: s.id } : undefined;
    case "pipeline-run":
      return s.id ? { case: "pipelineRunId", value: s.id } : undefined;
    case "dataset": {
      const parts = splitLast(s.id, "@");
      return parts ? { case: "dataset", value: { name: parts[0], version: parts[1] } } : undefined;
    }
    case "model": {
      const parts = splitLast(s.id, "@");
      if (!parts || !/^\d+$/.test(parts[1])) return undefined;
      return { case: "model", value: { model: parts[0], version: BigInt(parts[1]) } };
    }
    case "external": {
      const bar = s.id.indexOf("|");
      return bar > 0 ? { case: "external", value: { namespace: s.id.slice(0, bar), name: s.id.slice(bar + 1) } } : undefined;
    }
    default:
      return undefined;
  }
}

/** Where a graph can start from this node (steps cannot: their pipeline run can). */
export function nodeStart(n: LineageGraphNode): Start | undefined {
  switch (n.kind) {
    case LineageNodeKind.DATASET_VERSION:
      return n.dataset ? { kind: "dataset", id: `${n.dataset.name}@${n.dataset.version}` } : undefined;
    case LineageNodeKind.RUN:
      return { kind: "run", id: n.runId };
    case LineageNodeKind.MODEL_VERSION:
      return n.model ? { kind: "model", id: `${n.model.model}@${n.model.version}` } : undefined;
    case LineageNodeKind.PIPELINE_RUN:
      return { kind: "pipeline-run", id: n.pipelineRunId };
    case LineageNodeKind.EXTERNAL_DATASET:
      return n.external ? { kind: "external", id: `${n.external.namespace}|${n.external.name}` } : undefined;
    default:
      return undefined;
  }
}

/** The node's own page, when it has one (external datasets have none). */
export function nodePage(n: LineageGraphNode): string | undefined {
  switch (n.kind) {
    case LineageNodeKind.DATASET_VERSION:
      return n.dataset ? path`/datasets/${n.dataset.name}/${n.dataset.version}` : undefined;
    case LineageNodeKind.RUN:
      return path`/runs/${n.runId}`;
    case LineageNodeKind.MODEL_VERSION:
      return n.model ? path`/models/${n.model.model}/versions/${String(n.model.version)}` : undefined;
    case LineageNodeKind.PIPELINE_RUN:
      return path`/pipeline-runs/${n.pipelineRunId}`;
    case LineageNodeKind.PIPELINE_STEP:
      return `${path`/pipeline-runs/${n.pipelineRunId}`}?node=${encodeURIComponent(n.step)}`;
    default:
      return undefined;
  }
}

export const KIND_NAMES: Record<LineageNodeKind, string> = {
  [LineageNodeKind.UNSPECIFIED]: "node",
  [LineageNodeKind.DATASET_VERSION]: "dataset",
  [LineageNodeKind.RUN]: "run",
  [LineageNodeKind.MODEL_VERSION]: "model",
  [LineageNodeKind.PIPELINE_RUN]: "pipeline run",
  [LineageNodeKind.PIPELINE_STEP]: "step",
  [LineageNodeKind.EXTERNAL_DATASET]: "external",
};
