/**
 * A pipeline run's DAG from GetPipelineGraph, placed by the server's layers:
 * each node a box in its status colour; a fan-out collapsed into one node
 * shows how many instances it has and how many are in each status.
 */
import type { GetPipelineGraphResponse, Step } from "@gen/traintrack/v1/pipeline_pb.js";
import { useMemo } from "react";
import { type GraphEdge, type GraphNode, GraphView } from "../../graphs/graph-view.js";
import { countsText, stepStatusName } from "./status.js";

const WIDTH = 200;
const HEIGHT = 52;

export function PipelineDag({ graph, steps, selected, onSelect, expanded }: { graph: GetPipelineGraphResponse; steps: Map<string, Step>; selected?: string; onSelect: (nodeId: string) => void; expanded: boolean }) {
  const nodes = useMemo<GraphNode[]>(
    () =>
      graph.nodes.map((n) => {
        const status = stepStatusName(n.status);
        const fanOut = n.instanceCount > 1;
        const counts = fanOut ? countsText(steps.get(n.step)?.instancesByStatus ?? {}) : "";
        return {
          id: n.id,
          width: WIDTH,
          height: HEIGHT,
          layer: n.layer,
          className: `step ${status}`,
          attrs: { "data-node-id": n.id, "data-step": n.step, "data-status": status, "data-instances": n.instanceCount, "data-counts": counts },
          content: (
            <>
              <span className="title" title={n.id}>
                {n.id}
                {fanOut ? <span className="fan-out"> ×{n.instanceCount}</span> : null}
              </span>
              <span className="sub" title={counts || status}>
                {counts || status}
              </span>
            </>
          ),
        };
      }),
    [graph, steps],
  );
  const edges = useMemo<GraphEdge[]>(() => graph.edges.map((e) => ({ from: e.from, to: e.to, dashed: e.fromData, title: e.fromData ? "through the data" : "declared upstream" })), [graph]);
  return <GraphView nodes={nodes} edges={edges} selected={selected} onNodeClick={onSelect} viewKey={expanded ? "expanded" : "collapsed"} />;
}
