/** What the layouts take and give: boxes and edges in, top-left corners out. */
export interface LayoutNode {
  id: string;
  width: number;
  height: number;
  /** The node's layer when the server knows it (a pipeline's DAG); computed otherwise. */
  layer?: number;
}

export interface LayoutEdge {
  from: string;
  to: string;
}

export type Positions = Record<string, { x: number; y: number }>;

/** Which layout placed the graph: elk for small graphs, by layers for big ones. */
export type LayoutKind = "elk" | "layered";

export interface LayoutRequest {
  id: number;
  nodes: LayoutNode[];
  edges: LayoutEdge[];
}

export type LayoutResponse = { id: number; positions: Positions } | { id: number; error: string };
