import type { Viewport } from "@xyflow/react";
import type { Positions } from "./graph-types.js";
import { ELK_MAX_NODES } from "./layout.js";

interface Box {
  id: string;
  width: number;
  height: number;
}

/**
 * Where the view opens: a small graph fitted (but not magnified past 1.2 nor
 * shrunk below 0.1, where the shape still shows), a big one at a
 * readable zoom on its first layer's middle. Computed here from the layout
 * rather than by React Flow's fitView, which with onlyRenderVisibleElements
 * sees only the nodes already drawn.
 */
export function initialViewport(nodes: readonly Box[], positions: Positions, width: number, height: number): Viewport {
  const pad = 24;
  if (nodes.length > ELK_MAX_NODES) {
    const first = nodes.filter((n) => (positions[n.id]?.x ?? 0) === 0);
    const ys = first.map((n) => (positions[n.id]?.y ?? 0) + n.height / 2);
    const middle = ys.length ? (Math.min(...ys) + Math.max(...ys)) / 2 : 0;
    return { x: pad, y: height / 2 - middle * BIG_ZOOM, zoom: BIG_ZOOM };
  }
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const n of nodes) {
    const p = positions[n.id] ?? { x: 0, y: 0 };
    x0 = Math.min(x0, p.x);
    y0 = Math.min(y0, p.y);
    x1 = Math.max(x1, p.x + n.width);
    y1 = Math.max(y1, p.y + n.height);
  }
  if (!Number.isFinite(x0)) return { x: 0, y: 0, zoom: 1 };
  const zoom = Math.max(0.1, Math.min(1.2, (width - 2 * pad) / (x1 - x0), (height - 2 * pad) / (y1 - y0)));
  // Centred when it fits; otherwise from the left, centred vertically.
  const x = Math.max(pad, (width - (x1 - x0) * zoom) / 2) - x0 * zoom;
  const y = (height - (y1 - y0) * zoom) / 2 - y0 * zoom;
  return { x, y, zoom };
}

const BIG_ZOOM = 0.75;

