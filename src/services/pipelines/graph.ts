/**
 * A pipeline run's DAG as a drawing: steps (or, expanded, their instances) as
 * nodes with a layer each (the longest upstream path, so that every edge
 * points to a later layer), and its rendering as Mermaid and Graphviz DOT text.
 */
import { LimitExceededError } from "../errors.js";
import { MAX_EDGES_PER_RUN, type StepEdge, type StepStatus, type StepView } from "./types.js";

export interface GraphNode {
  id: string;
  step: string;
  status: StepStatus;
  instanceCount: number;
  layer: number;
}

/** Steps ordered so that each comes after its upstream steps (Kahn's algorithm; ties by name), with their layers. */
export function layered(names: string[], edges: StepEdge[]): { order: string[]; layer: Map<string, number> } {
  const incoming = new Map(names.map((n) => [n, 0]));
  const out = new Map<string, string[]>();
  for (const e of edges) {
    if (!incoming.has(e.from) || !incoming.has(e.to)) continue;
    incoming.set(e.to, (incoming.get(e.to) ?? 0) + 1);
    out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  }
  const layer = new Map<string, number>();
  const ready = names.filter((n) => incoming.get(n) === 0).sort();
  const order: string[] = [];
  for (let i = 0; i < ready.length; i++) {
    const n = ready[i] as string;
    order.push(n);
    for (const m of out.get(n) ?? []) {
      layer.set(m, Math.max(layer.get(m) ?? 0, (layer.get(n) ?? 0) + 1));
      const left = (incoming.get(m) ?? 0) - 1;
      incoming.set(m, left);
      if (left === 0) ready.push(m);
    }
  }
  for (const n of names) if (!layer.has(n)) layer.set(n, 0);
  return { order, layer };
}

/** Nodes and edges, one node per step, or per instance of a fan-out step when `expand`. */
export function graphOf(steps: StepView[], edges: StepEdge[], expand: boolean): { nodes: GraphNode[]; edges: StepEdge[] } {
  const { order, layer } = layered(steps.map((s) => s.name), edges);
  const byName = new Map(steps.map((s) => [s.name, s]));
  const nodes: GraphNode[] = [];
  const idsOf = new Map<string, string[]>();
  for (const name of order) {
    const s = byName.get(name) as StepView;
    const fanOut = expand && s.instances.length > 1;
    const ids = fanOut ? s.instances.map((i) => `${name}[${i.instance}]`) : [name];
    idsOf.set(name, ids);
    if (fanOut) for (const i of s.instances) nodes.push({ id: `${name}[${i.instance}]`, step: name, status: i.status, instanceCount: 1, layer: layer.get(name) ?? 0 });
    else nodes.push({ id: name, step: name, status: s.status, instanceCount: s.instances.length, layer: layer.get(name) ?? 0 });
  }
  const total = edges.reduce((n, e) => n + (idsOf.get(e.from)?.length ?? 0) * (idsOf.get(e.to)?.length ?? 0), 0);
  if (total > MAX_EDGES_PER_RUN) throw new LimitExceededError(`expanded, this graph has ${total} edges (the limit is ${MAX_EDGES_PER_RUN}): ask for it collapsed`);
  const out: StepEdge[] = [];
  for (const e of edges) for (const from of idsOf.get(e.from) ?? []) for (const to of idsOf.get(e.to) ?? []) out.push({ from, to, fromData: e.fromData });
  return { nodes, edges: out };
}

const STYLE: Record<StepStatus, string> = {
  pending: "fill:#eee,stroke:#999",
  running: "fill:#dbeafe,stroke:#2563eb",
  succeeded: "fill:#dcfce7,stroke:#16a34a",
  failed: "fill:#fee2e2,stroke:#dc2626",
  skipped: "fill:#f5f5f5,stroke:#a3a3a3,stroke-dasharray:3",
  cached: "fill:#fef9c3,stroke:#ca8a04",
};

/** Node ids safe in both languages: the text goes in labels, quoted. */
const safeId = (i: number) => `n${i}`;
const quoted = (text: string) => text.replace(/["\\\n\r]/g, (c) => (c === "\n" || c === "\r" ? " " : `\\${c}`));
const mermaidLabel = (text: string) => text.replace(/["\n\r]/g, (c) => (c === '"' ? "#quot;" : " "));

export function toMermaid(g: { nodes: GraphNode[]; edges: StepEdge[] }): string {
  const index = new Map(g.nodes.map((n, i) => [n.id, safeId(i)]));
  const lines = ["flowchart LR"];
  g.nodes.forEach((n, i) => {
    const label = n.instanceCount > 1 ? `${n.id} ×${n.instanceCount}` : n.id;
    lines.push(`  ${safeId(i)}["${mermaidLabel(label)}<br/>${n.status}"]`);
  });
  for (const e of g.edges) lines.push(`  ${index.get(e.from)} ${e.fromData ? "-.->" : "-->"} ${index.get(e.to)}`);
  for (const [status, style] of Object.entries(STYLE)) {
    const members = g.nodes.flatMap((n, i) => (n.status === status ? [safeId(i)] : []));
    if (members.length > 0) lines.push(`  classDef ${status} ${style}`, `  class ${members.join(",")} ${status}`);
  }
  return `${lines.join("\n")}\n`;
}

const DOT_COLOUR: Record<StepStatus, string> = { pending: "#999999", running: "#2563eb", succeeded: "#16a34a", failed: "#dc2626", skipped: "#a3a3a3", cached: "#ca8a04" };

export function toDot(g: { nodes: GraphNode[]; edges: StepEdge[] }): string {
  const index = new Map(g.nodes.map((n, i) => [n.id, safeId(i)]));
  const lines = ["digraph pipeline {", "  rankdir=LR;", "  node [shape=box, style=rounded];"];
  g.nodes.forEach((n, i) => {
    const label = n.instanceCount > 1 ? `${n.id} ×${n.instanceCount}` : n.id;
    lines.push(`  ${safeId(i)} [label="${quoted(label)}\\n${n.status}", color="${DOT_COLOUR[n.status]}"];`);
  });
  for (const e of g.edges) lines.push(`  ${index.get(e.from)} -> ${index.get(e.to)}${e.fromData ? " [style=dashed]" : ""};`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
