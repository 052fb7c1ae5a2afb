/**
 * elk's layered layout off the main thread: the page stays responsive while a
 * graph is placed, and elkjs (≈1.5 MB) loads only with this worker's chunk.
 */
import ELK from "elkjs/lib/elk.bundled.js";
import type { LayoutRequest, LayoutResponse, Positions } from "./graph-types.js";

const elk = new ELK();

self.onmessage = async (event: MessageEvent<LayoutRequest>) => {
  const { id, nodes, edges } = event.data;
  let answer: LayoutResponse;
  try {
    const ids = new Set(nodes.map((n) => n.id));
    const laid = await elk.layout({
      id: "root",
      layoutOptions: {
        "elk.algorithm": "layered",
        "elk.direction": "RIGHT",
        "elk.layered.spacing.nodeNodeBetweenLayers": "60",
        "elk.spacing.nodeNode": "16",
      },
      children: nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
      edges: edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to).map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
    });
    const positions: Positions = {};
    for (const c of laid.children ?? []) positions[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
    answer = { id, positions };
  } catch (e) {
    answer = { id, error: e instanceof Error ? e.message : String(e) };
  }
  (self as unknown as Worker).postMessage(answer);
};
