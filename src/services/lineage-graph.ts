/**
 * The lineage graph across datasets, runs and models: the neighbourhood of a
 * node, walked breadth first (nearest nodes first) up to a depth and a node
 * budget, along edges in one or both directions. A node the caller may not
 * read is not in the graph, and the walk does not pass through it.
 */
import type { Kysely } from "kysely";
import * as repo from "../db/lineage-graph-repo.js";
import * as pipelines from "../db/lineage-pipelines-repo.js";
import type { NodeDetails } from "../db/lineage-graph-repo.js";
import type { Database } from "../db/schema.js";
import { NotFoundError, PermissionDeniedError } from "./errors.js";
import { MAX_LINEAGE_EDGES } from "./read-limits.js";

export type NodeKind = "dataset" | "run" | "model" | "pipeline_run" | "step" | "external";
export type EdgeKind = "derived_from" | "read_by" | "produced" | "registered_as" | "contains" | "tracked_as";
export type Direction = "both" | "upstream" | "downstream";

export type StartNode =
  | { kind: "dataset"; name: string; version: string }
  | { kind: "run"; runId: string }
  | { kind: "model"; name: string; version: number }
  | { kind: "pipeline_run"; id: string }
  | { kind: "external"; namespace: string; name: string };

export interface GraphNode extends NodeDetails {
  kind: NodeKind;
  external?: { namespace: string; name: string };
  /** Unique in the graph and stable: "dataset:<name>@<version>", "run:<id>", "model:<name>@<version>". */
  key: string;
  distance: number;
}

export interface GraphEdge {
  kind: EdgeKind;
  from: string;
  to: string;
}

export interface WalkOptions {
  depth: number;
  direction: Direction;
  /** Kinds returned (the walk passes through the others); undefined: all. */
  kinds?: ReadonlySet<NodeKind>;
  maxNodes: number;
  /** Whether the caller may read a node governed by this project (null: by the organisation). */
  canSee: (kind: NodeKind, projectId: string | null) => boolean;
}

interface Link {
  kind: EdgeKind;
  from: [NodeKind, string];
  to: [NodeKind, string];
}

function keyOf(kind: NodeKind, d: NodeDetails & { external?: { namespace: string; name: string } }): string {
  switch (kind) {
    case "dataset":
      return `dataset:${d.dataset?.name}@${d.dataset?.version}`;
    case "model":
      return `model:${d.model?.name}@${d.model?.version}`;
    case "run":
      return `run:${d.id}`;
    case "pipeline_run":
      return `pipeline-run:${d.id}`;
    case "step":
      return `step:${d.id}`;
    case "external":
      return `external:${d.external?.namespace}/${d.external?.name}`;
  }
}

/** A step input's or output's ref key as a node: run artefacts stand for their run. */
function nodeOfRef(refKey: string): [NodeKind, string] | undefined {
  const at = refKey.indexOf(":");
  const [kind, id] = [refKey.slice(0, at), refKey.slice(at + 1)];
  if (kind === "dataset" || kind === "model" || kind === "external") return [kind, id];
  if (kind === "artefact") return ["run", id.slice(0, id.indexOf("/"))];
  return undefined;
}

const REF_PREFIX: Partial<Record<NodeKind, string>> = { dataset: "dataset:", model: "model:", external: "external:" };

export function createLineageGraph(deps: { db: Kysely<Database> }) {
  const { db } = deps;

  async function details(orgId: string, kind: NodeKind, ids: string[]): Promise<(NodeDetails & { external?: { namespace: string; name: string } })[]> {
    if (ids.length === 0) return [];
    switch (kind) {
      case "dataset":
        return repo.datasetDetails(db, orgId, ids);
      case "run":
        return repo.runDetails(db, orgId, ids);
      case "model":
        return repo.modelDetails(db, orgId, ids);
      case "pipeline_run":
        return pipelines.pipelineRunDetails(db, orgId, ids);
      case "step":
        return pipelines.stepDetails(db, orgId, ids);
      case "external":
        return pipelines.externalDetails(db, orgId, ids);
    }
  }

  /** Edges between steps and what they read and wrote, from either side. */
  async function ioLinks(orgId: string, kind: NodeKind, ids: string[], down: boolean, up: boolean, limit: number): Promise<Link[]> {
    const out: Link[] = [];
    const prefix = REF_PREFIX[kind];
    if (prefix) {
      const keys = ids.map((id) => `${prefix}${id}`);
      if (down) for (const r of await pipelines.stepsOfRefs(db, orgId, keys, "in", limit)) out.push({ kind: "read_by", from: [kind, r.refKey.slice(prefix.length)], to: ["step", r.step] });
      if (up) for (const r of await pipelines.stepsOfRefs(db, orgId, keys, "out", limit)) out.push({ kind: "produced", from: ["step", r.step], to: [kind, r.refKey.slice(prefix.length)] });
    }
    if (kind === "step") {
      if (up) {
        for (const r of await pipelines.ioOfSteps(db, orgId, ids, "in", limit)) {
          const node = nodeOfRef(r.refKey);
          if (node) out.push({ kind: "read_by", from: node, to: ["step", r.step] });
        }
      }
      if (down) {
        for (const r of await pipelines.ioOfSteps(db, orgId, ids, "out", limit)) {
          const node = nodeOfRef(r.refKey);
          if (node) out.push({ kind: "produced", from: ["step", r.step], to: node });
        }
      }
    }
    return out;
  }

  /** Every edge from (or into) nodes of one kind, in the directions asked. */
  async function linksOf(orgId: string, kind: NodeKind, ids: string[], direction: Direction, limit: number): Promise<Link[]> {
    const down = direction !== "upstream";
    const up = direction !== "downstream";
    const out: Link[] = [];
    const add = (links: repo.Link[], edge: EdgeKind, from: NodeKind, to: NodeKind) => {
      for (const l of links) out.push({ kind: edge, from: [from, l.from], to: [to, l.to] });
    };
    // A model version is made by its run: registered from its artefacts, or produced and uploaded apart.
    const made = (l: repo.Link & { registered: boolean }): Link => ({ kind: l.registered ? "registered_as" : "produced", from: ["run", l.from], to: ["model", l.to] });
    out.push(...(await ioLinks(orgId, kind, ids, down, up, limit)));
    switch (kind) {
      case "pipeline_run":
        if (down) add(await pipelines.stepsOfRuns(db, orgId, ids, limit), "contains", "pipeline_run", "step");
        break;
      case "step":
        if (up) for (const id of ids) out.push({ kind: "contains", from: ["pipeline_run", id.slice(0, id.indexOf("/"))], to: ["step", id] });
        if (down) add(await pipelines.tracking(db, orgId, ids, true, limit), "tracked_as", "step", "run");
        break;
      case "dataset":
        if (down) add(await repo.derivations(db, orgId, ids, true, limit), "derived_from", "dataset", "dataset");
        if (up) add(await repo.derivations(db, orgId, ids, false, limit), "derived_from", "dataset", "dataset");
        if (down) add(await repo.reads(db, orgId, ids, true, limit), "read_by", "dataset", "run");
        break;
      case "run":
        if (up) add(await repo.reads(db, orgId, ids, false, limit), "read_by", "dataset", "run");
        if (up) add(await pipelines.tracking(db, orgId, ids, false, limit), "tracked_as", "step", "run");
        if (down) out.push(...(await repo.makes(db, orgId, ids, true, limit)).map(made));
        break;
      case "model":
        if (up) out.push(...(await repo.makes(db, orgId, ids, false, limit)).map(made));
        break;
      case "external":
        // Only steps touch external datasets (ioLinks above).
        break;
    }
    return out;
  }

  async function startId(orgId: string, start: StartNode): Promise<[NodeKind, string]> {
    if (start.kind === "run") return ["run", start.runId];
    if (start.kind === "pipeline_run") return ["pipeline_run", start.id];
    if (start.kind === "external") {
      const id = await pipelines.externalId(db, orgId, start.namespace, start.name);
      if (!id) throw new NotFoundError(`no external dataset "${start.name}" in namespace "${start.namespace}"`);
      return ["external", id];
    }
    const id =
      start.kind === "dataset" ? await repo.datasetVersionId(db, orgId, start.name, start.version) : await repo.modelVersionId(db, orgId, start.name, start.version);
    if (!id) throw new NotFoundError(start.kind === "dataset" ? `dataset "${start.name}" version "${start.version}" not found` : `model "${start.name}" has no version ${start.version}`);
    return [start.kind, id];
  }

  async function walk(orgId: string, start: StartNode, opts: WalkOptions): Promise<{ nodes: GraphNode[]; edges: GraphEdge[]; truncated: boolean }> {
    const [startKind, startDbId] = await startId(orgId, start);
    const [first] = await details(orgId, startKind, [startDbId]);
    if (!first) throw new NotFoundError(startKind === "run" ? `run "${startDbId}" not found` : `pipeline run "${startDbId}" not found`);
    if (!opts.canSee(startKind, first.projectId)) throw new PermissionDeniedError("you may not read the node this graph starts from");
    const nodes = new Map<string, GraphNode>([[`${startKind}:${startDbId}`, { ...first, kind: startKind, key: keyOf(startKind, first), distance: 0 }]]);
    const edges = new Map<string, Link>();
    let truncated = false;
    let frontier: [NodeKind, string][] = [[startKind, startDbId]];
    for (let hop = 1; hop <= opts.depth && frontier.length > 0 && !truncated; hop++) {
      const links: Link[] = [];
      for (const kind of ["dataset", "run", "model", "pipeline_run", "step", "external"] as const) {
        const ids = frontier.filter(([k]) => k === kind).map(([, id]) => id);
        if (ids.length > 0) links.push(...(await linksOf(orgId, kind, ids, opts.direction, opts.maxNodes + 1)));
      }
      // New neighbours, by kind, then their details (to check the caller may see them).
      const fresh = new Map<NodeKind, Set<string>>();
      for (const l of links) {
        for (const [kind, id] of [l.from, l.to]) if (!nodes.has(`${kind}:${id}`)) fresh.set(kind, (fresh.get(kind) ?? new Set()).add(id));
      }
      const next: [NodeKind, string][] = [];
      for (const [kind, ids] of fresh) {
        for (const d of await details(orgId, kind, [...ids])) {
          if (!opts.canSee(kind, d.projectId)) continue;
          if (nodes.size >= opts.maxNodes) {
            truncated = true;
            break;
          }
          nodes.set(`${kind}:${d.id}`, { ...d, kind, key: keyOf(kind, d), distance: hop });
          next.push([kind, d.id]);
        }
      }
      for (const l of links) {
        if (!nodes.has(`${l.from[0]}:${l.from[1]}`) || !nodes.has(`${l.to[0]}:${l.to[1]}`)) continue;
        if (edges.size >= MAX_LINEAGE_EDGES) {
          truncated = true;
          break;
        }
        edges.set(`${l.kind}:${l.from.join(":")}>${l.to.join(":")}`, l);
      }
      frontier = next;
    }
    const shown = [...nodes.entries()].filter(([, n]) => !opts.kinds || opts.kinds.has(n.kind));
    const keys = new Map(shown.map(([internal, n]) => [internal, n.key]));
    const graphEdges: GraphEdge[] = [];
    for (const l of edges.values()) {
      const from = keys.get(`${l.from[0]}:${l.from[1]}`);
      const to = keys.get(`${l.to[0]}:${l.to[1]}`);
      if (from && to) graphEdges.push({ kind: l.kind, from, to });
    }
    return { nodes: shown.map(([, n]) => n), edges: graphEdges, truncated };
  }

  return { walk };
}
