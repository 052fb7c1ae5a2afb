/**
 * Places a graph: elk (in a web worker) for graphs of up to ELK_MAX_NODES (200)
 * nodes, where its crossing minimisation reads best; above that the layout by
 * layers (layered-layout.ts), because elk on 1,000 nodes already takes
 * seconds and the budget for 5,000 is 3 s laid out and drawn.
 */
import type { LayoutEdge, LayoutKind, LayoutNode, LayoutResponse, Positions } from "./graph-types.js";
import { layeredLayout } from "./layered-layout.js";

export const ELK_MAX_NODES = 200;

let worker: Worker | undefined;
let nextId = 1;
const waiting = new Map<number, (r: LayoutResponse) => void>();

function elkWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL("./layout.worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<LayoutResponse>) => {
      waiting.get(event.data.id)?.(event.data);
      waiting.delete(event.data.id);
    };
    worker.onerror = () => {
      // A worker that fails to load answers nobody: let every caller fall back.
      for (const [id, resolve] of waiting) resolve({ id, error: "layout worker failed" });
      waiting.clear();
      worker = undefined;
    };
  }
  return worker;
}

export async function layoutGraph(nodes: LayoutNode[], edges: LayoutEdge[]): Promise<{ positions: Positions; kind: LayoutKind }> {
  if (nodes.length > ELK_MAX_NODES) return { positions: layeredLayout(nodes, edges), kind: "layered" };
  const id = nextId++;
  const answer = await new Promise<LayoutResponse>((resolve) => {
    waiting.set(id, resolve);
    elkWorker().postMessage({ id, nodes, edges });
  });
  // elk refusing a graph should not leave the page empty.
  if ("error" in answer) return { positions: layeredLayout(nodes, edges), kind: "layered" };
  return { positions: answer.positions, kind: "elk" };
}
