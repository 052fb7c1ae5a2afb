/**
 * GetLineage's walk: breadth first from one version, ancestors and
 * descendants a generation at a time, so that when the graph is cut (at
 * `maxNodes` versions or MAX_LINEAGE_EDGES edges) what is kept is what lies
 * nearest the version asked about. Each generation is one query whose ids go
 * as one array parameter, and each query asks for no more edges than the
 * response may still hold: a graph of any size costs at most
 * 2 × depth bounded queries.
 */
import type { Kysely } from "kysely";
import * as repo from "../db/datasets-repo.js";
import type { VersionKey, VersionWithName } from "../db/datasets-repo.js";
import type { Database } from "../db/schema.js";
import { MAX_LINEAGE_EDGES } from "./read-limits.js";

export interface LineageGraph {
  nodes: { ref: VersionKey; createdAt: Date }[];
  edges: { parent: VersionKey; child: VersionKey }[];
  /** True when the graph goes on past the nodes or edges returned. */
  truncated: boolean;
}

type Direction = "ancestors" | "descendants";

/** The graph around `start`, at most `depth` generations each way and `maxNodes` versions (start included). */
export async function walkLineage(
  db: Kysely<Database>,
  orgId: string,
  start: VersionWithName,
  opts: { depth: number; maxNodes: number },
): Promise<LineageGraph> {
  const seen = new Set([start.id]);
  const edges: { parentId: string; childId: string }[] = [];
  const frontiers: Record<Direction, string[]> = { ancestors: [start.id], descendants: [start.id] };
  let truncated = false;

  for (let generation = 0; generation < opts.depth && !truncated; generation++) {
    for (const direction of ["ancestors", "descendants"] as const) {
      const room = MAX_LINEAGE_EDGES - edges.length;
      // One more than fits tells a cut graph from one that fits exactly.
      const step = await repo.lineageStep(db, orgId, frontiers[direction], direction, room + 1);
      const next: string[] = [];
      for (const edge of step.slice(0, room)) {
        const reached = direction === "ancestors" ? edge.parentId : edge.childId;
        if (!seen.has(reached)) {
          if (seen.size >= opts.maxNodes) {
            truncated = true;
            continue;
          }
          seen.add(reached);
          next.push(reached);
        }
        edges.push(edge);
      }
      if (step.length > room) truncated = true;
      frontiers[direction] = next;
    }
    if (frontiers.ancestors.length === 0 && frontiers.descendants.length === 0) break;
  }

  const versions = new Map((await repo.versionsByIds(db, orgId, [...seen])).map((v) => [v.id, v]));
  const ref = (id: string): VersionKey => {
    const v = versions.get(id);
    return { name: v?.name ?? "", version: v?.version ?? "" };
  };
  return {
    nodes: [...versions.values()].map((v) => ({ ref: { name: v.name, version: v.version }, createdAt: v.createdAt })),
    edges: edges.map((e) => ({ parent: ref(e.parentId), child: ref(e.childId) })),
    truncated,
  };
}
