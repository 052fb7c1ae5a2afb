/**
 * A graph drawn with React Flow and placed by layout.ts: nodes are plain boxes
 * whose content the page gives, edges point left to right. Built for 5,000
 * nodes as much as for 5: only the elements in view are rendered, every node
 * carries its size and handles (so edges draw without measuring a node first),
 * the layout reruns only when the graph's shape changes (not when a status
 * does), and a big graph opens at a readable zoom on its first layer instead
 * of fitting everything into an unreadable (and slow) overview.
 *
 * The container carries what tests and the benchmark read: data-node-count,
 * data-edge-count, data-layout ("elk" | "layered"), data-laid-out,
 * data-layout-ms, data-drawn-ms (from the graph's arrival to the first frame
 * drawn after its layout) and data-drawn-at (that frame, since navigation).
 */
import { Controls, Handle, type Edge, type Node, type NodeProps, type NodeTypes, Position, ReactFlow } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { type ReactNode, memo, useEffect, useMemo, useRef, useState } from "react";
import type { LayoutKind, Positions } from "./graph-types.js";
import { ELK_MAX_NODES, layoutGraph } from "./layout.js";
import { initialViewport } from "./viewport.js";
import "./graphs.css";

export interface GraphNode {
  id: string;
  width: number;
  height: number;
  layer?: number;
  content: ReactNode;
  className?: string;
  /** data-* attributes of the node's box, for styling and tests. */
  attrs?: Record<`data-${string}`, string | number>;
}

export interface GraphEdge {
  from: string;
  to: string;
  dashed?: boolean;
  title?: string;
}

type BoxData = { content: ReactNode; className?: string; attrs?: GraphNode["attrs"] };

const Box = memo(function Box({ data, selected }: NodeProps<Node<BoxData>>) {
  return (
    <div className={`graph-box ${data.className ?? ""}${selected ? " selected" : ""}`} {...data.attrs}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      {data.content}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes: NodeTypes = { box: Box };

/** The graph's shape: what the layout depends on. */
function shapeOf(nodes: GraphNode[], edges: GraphEdge[]): string {
  return `${nodes.map((n) => `${n.id}:${n.width}x${n.height}@${n.layer ?? ""}`).join("|")}#${edges.map((e) => `${e.from}>${e.to}`).join("|")}`;
}

export function GraphView({ nodes, edges, selected, onNodeClick, height = "70vh", viewKey = "" }: { nodes: GraphNode[]; edges: GraphEdge[]; selected?: string; onNodeClick?: (id: string) => void; height?: string; /** A new key opens the view afresh (e.g. fan-outs expanded); a live update of the same graph keeps the user's view. */ viewKey?: string }) {
  const container = useRef<HTMLDivElement>(null);
  const arrived = useRef(performance.now());
  const [layout, setLayout] = useState<{ shape: string; positions: Positions; kind: LayoutKind; ms: number; viewKey: string }>();
  const shape = useMemo(() => shapeOf(nodes, edges), [nodes, edges]);
  const latest = useRef({ nodes, edges, viewKey });
  latest.current = { nodes, edges, viewKey };

  useEffect(() => {
    let live = true;
    const started = performance.now();
    arrived.current = started;
    const { nodes: n, edges: e, viewKey: key } = latest.current;
    void layoutGraph(
      n.map(({ id, width, height, layer }) => ({ id, width, height, layer })),
      e.map(({ from, to }) => ({ from, to })),
    ).then(({ positions, kind }) => {
      if (live) setLayout({ shape, positions, kind, ms: performance.now() - started, viewKey: key });
    });
    return () => {
      live = false;
    };
  }, [shape]);

  const laidOut = layout?.shape === shape;
  useEffect(() => {
    if (!laidOut) return;
    const frame = requestAnimationFrame(() => {
      const now = performance.now();
      container.current?.setAttribute("data-drawn-ms", String(Math.round(now - arrived.current)));
      // Since the page's navigation began: what the benchmark reports.
      container.current?.setAttribute("data-drawn-at", String(Math.round(now)));
    });
    return () => cancelAnimationFrame(frame);
  }, [laidOut]);

  const flowNodes = useMemo<Node<BoxData>[]>(() => {
    if (!layout) return [];
    return nodes.map((n) => ({
      id: n.id,
      type: "box",
      position: layout.positions[n.id] ?? { x: 0, y: 0 },
      width: n.width,
      height: n.height,
      selected: n.id === selected,
      handles: [
        { type: "target", position: Position.Left, x: 0, y: n.height / 2, width: 1, height: 1 },
        { type: "source", position: Position.Right, x: n.width, y: n.height / 2, width: 1, height: 1 },
      ],
      data: { content: n.content, className: n.className, attrs: n.attrs },
    }));
  }, [nodes, layout, selected]);

  const flowEdges = useMemo<Edge[]>(
    () =>
      edges.map((e, i) => ({
        id: `${i}:${e.from}>${e.to}`,
        source: e.from,
        target: e.to,
        className: e.dashed ? "dashed" : undefined,
        ariaLabel: e.title,
      })),
    [edges],
  );

  const big = nodes.length > ELK_MAX_NODES;
  return (
    <div
      ref={container}
      className="graph-view"
      style={{ height }}
      data-node-count={nodes.length}
      data-edge-count={edges.length}
      data-laid-out={laidOut ? "true" : "false"}
      data-layout={layout?.kind ?? ""}
      data-layout-ms={layout ? Math.round(layout.ms) : ""}
    >
      {layout ? (
        <ReactFlow
          // The view opens afresh once the graph of a new key is laid out, not before (its viewport needs the new positions).
          key={layout.viewKey}
          nodes={flowNodes}
          edges={flowEdges}
          nodeTypes={nodeTypes}
          onlyRenderVisibleElements
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          defaultViewport={initialViewport(nodes, layout.positions, container.current?.clientWidth ?? 1000, container.current?.clientHeight ?? 600)}
          minZoom={big ? 0.02 : 0.1}
          // Always set: without a click handler React Flow makes nodes deaf to the pointer, and their links and buttons with them.
          onNodeClick={(_, node) => onNodeClick?.(node.id)}
        >
          <Controls showInteractive={false} />
        </ReactFlow>
      ) : null}
    </div>
  );
}
