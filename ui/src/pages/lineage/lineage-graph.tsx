/**
 * A lineage graph: one box per node, styled by kind, each linking to its
 * page, with "expand" on the nodes a graph can start from (it fetches their
 * neighbourhood, merged in by the page) and "centre" to start the graph there.
 */
import { type LineageGraphEdge, LineageEdgeKind, type LineageGraphNode, LineageNodeKind } from "@gen/traintrack/v1/lineage_pb.js";
import { useMemo } from "react";
import { formatTime } from "../../components/format.js";
import { type GraphEdge, type GraphNode, GraphView } from "../../graphs/graph-view.js";
import { Link } from "../../router.js";
import { KIND_NAMES, lineagePath, nodePage, nodeStart, startKey } from "./lineage-links.js";

const WIDTH = 240;
const HEIGHT = 60;

export function LineageGraph({ nodes, edges, rootId, expanded, onExpand, viewKey }: { nodes: LineageGraphNode[]; edges: LineageGraphEdge[]; rootId?: string; expanded: Set<string>; onExpand: (key: string) => void; viewKey: string }) {
  const graphNodes = useMemo<GraphNode[]>(
    () =>
      nodes.map((n) => {
        const kind = KIND_NAMES[n.kind] ?? "node";
        const start = nodeStart(n);
        const key = start ? startKey(start) : undefined;
        const page = nodePage(n);
        // A step's label is "<pipeline run>: <step>": the step leads, the run goes below.
        const isStep = n.kind === LineageNodeKind.PIPELINE_STEP;
        const label = isStep && n.step ? n.step : n.label || n.id;
        const sub = n.external ? n.external.namespace : isStep ? n.label.slice(0, n.label.lastIndexOf(": ")) || n.pipelineRunId : formatTime(n.createdAt);
        return {
          id: n.id,
          width: WIDTH,
          height: HEIGHT,
          className: `lineage kind-${kind.replace(" ", "-")}${n.id === rootId ? " root" : ""}`,
          attrs: { "data-node-id": n.id, "data-kind": kind, "data-label": label },
          content: (
            <>
              <span className="title">
                <span className="kind-tag">{kind}</span>{" "}
                {page ? (
                  <Link to={page} className="nodrag nopan" title={label}>
                    {label}
                  </Link>
                ) : (
                  <span title={label}>{label}</span>
                )}
              </span>
              <span className="sub">
                <span className="sub-text" title={sub}>
                  {sub}
                </span>
                {key && !expanded.has(key) && n.id !== rootId ? (
                  <button type="button" className="link-button nodrag nopan expand" data-expand={n.id} onClick={() => onExpand(key)}>
                    expand
                  </button>
                ) : null}
                {start && n.id !== rootId ? (
                  <Link to={lineagePath(start)} className="nodrag nopan centre" title="Start the graph here">
                    centre
                  </Link>
                ) : null}
              </span>
            </>
          ),
        };
      }),
    [nodes, rootId, expanded, onExpand],
  );
  const graphEdges = useMemo<GraphEdge[]>(
    () => edges.map((e) => ({ from: e.from, to: e.to, title: (LineageEdgeKind[e.kind] ?? "").toLowerCase().replace("_", " "), dashed: e.kind === LineageEdgeKind.CONTAINS || e.kind === LineageEdgeKind.TRACKED_AS })),
    [edges],
  );
  return <GraphView nodes={graphNodes} edges={graphEdges} height="72vh" viewKey={viewKey} />;
}
