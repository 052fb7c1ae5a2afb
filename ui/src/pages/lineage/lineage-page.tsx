/**
 * Lineage around a dataset version, run, model version, pipeline run or
 * external dataset: the typed graph k hops out (?hops=, ?dir=), expandable
 * node by node (?expand=kind/id, repeated: each a one-hop neighbourhood
 * merged into the graph), so that what is on screen can be shared.
 */
import { createQueryOptions, useQuery, useTransport } from "@connectrpc/connect-query";
import { type GetLineageGraphResponse, type LineageGraphEdge, type LineageGraphNode, LineageDirection, LineageService } from "@gen/traintrack/v1/lineage_pb.js";
import { type UseQueryResult, skipToken, useQueries } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { Empty, ErrorBox, Loaded } from "../../components/feedback.js";
import { navigate, useLocation } from "../../router.js";
import { LineageGraph } from "./lineage-graph.js";
import { type Start, parseStartKey, startRequest } from "./lineage-links.js";
import "./lineage.css";

const HOPS = [1, 2, 3, 4, 5, 6, 10];
const DIRECTIONS: Record<string, LineageDirection> = { both: LineageDirection.UNSPECIFIED, upstream: LineageDirection.UPSTREAM, downstream: LineageDirection.DOWNSTREAM };

/** The expanded neighbourhoods' answers, one stable object while none changes (TanStack memoises `combine`). */
function dataAndError(results: UseQueryResult<GetLineageGraphResponse>[]) {
  return { data: results.map((r) => r.data), error: results.find((r) => r.error)?.error };
}

function withQuery(change: (q: URLSearchParams) => void) {
  const q = new URLSearchParams(window.location.search);
  change(q);
  const qs = q.toString();
  navigate(`${window.location.pathname}${qs ? `?${qs}` : ""}`, { replace: true });
}

export function LineagePage({ start }: { start: Start }) {
  const { query } = useLocation();
  const hops = Number(query.get("hops")) || 3;
  const dir = query.get("dir") ?? "both";
  const direction = DIRECTIONS[dir] ?? LineageDirection.UNSPECIFIED;
  const expandedList = query.getAll("expand").join("\n");
  const expanded = useMemo(() => new Set(expandedList ? expandedList.split("\n") : []), [expandedList]);

  const request = startRequest(start);
  const main = useQuery(LineageService.method.getLineageGraph, request ? { start: request, depth: hops, direction } : skipToken);
  const transport = useTransport();
  const more = useQueries({
    queries: [...expanded].flatMap((key) => {
      const s = parseStartKey(key);
      const r = s && startRequest(s);
      return r ? [createQueryOptions(LineageService.method.getLineageGraph, { start: r, depth: 1 }, { transport })] : [];
    }),
    combine: dataAndError,
  });

  const merged = useMemo(() => {
    const nodes = new Map<string, LineageGraphNode>();
    const edges = new Map<string, LineageGraphEdge>();
    for (const g of [main.data, ...more.data]) {
      for (const n of g?.nodes ?? []) if (!nodes.has(n.id)) nodes.set(n.id, n);
      for (const e of g?.edges ?? []) edges.set(`${e.kind}|${e.from}|${e.to}`, e);
    }
    return { nodes: [...nodes.values()], edges: [...edges.values()] };
  }, [main.data, more]);
  const rootId = main.data?.nodes.find((n) => n.distance === 0)?.id;
  const onExpand = useCallback((key: string) => withQuery((q) => q.append("expand", key)), []);
  const moreError = more.error;

  if (!request) return <ErrorBox error={new Error(`"${start.kind}/${start.id}" is not a lineage start: use dataset/<name>@<version>, run/<id>, model/<name>@<version>, pipeline-run/<id> or external/<namespace>|<name>.`)} what="read this link" />;
  return (
    <section>
      <div className="page-head">
        <h1>
          Lineage of {start.kind} <code>{start.id}</code>
        </h1>
        <label>
          Hops{" "}
          <select value={hops} onChange={(e) => withQuery((q) => q.set("hops", e.target.value))} aria-label="Hops">
            {HOPS.map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
        </label>
        <label>
          Direction{" "}
          <select value={dir} onChange={(e) => withQuery((q) => q.set("dir", e.target.value))} aria-label="Direction">
            <option value="both">both ways</option>
            <option value="upstream">upstream (where it came from)</option>
            <option value="downstream">downstream (what was made from it)</option>
          </select>
        </label>
        {expanded.size ? (
          <button type="button" onClick={() => withQuery((q) => q.delete("expand"))}>
            Collapse {expanded.size} expanded
          </button>
        ) : null}
        <span className="muted" data-lineage-counts>
          {merged.nodes.length} nodes · {merged.edges.length} edges
        </span>
      </div>
      {main.data?.truncated ? <div className="notice">Some nodes within {hops} hops were left out (too many): expand a node at the edge, or start the graph there.</div> : null}
      {moreError ? <ErrorBox error={moreError} what="expand a node" /> : null}
      <Loaded query={main} what="load the lineage graph">
        {() =>
          merged.nodes.length <= 1 ? (
            <Empty title="Nothing is linked to this yet.">
              Lineage appears when a run reads a dataset (<code>run.use_dataset(ds)</code>), a model is registered from a run, or a pipeline step records its inputs and outputs.
            </Empty>
          ) : (
            <LineageGraph nodes={merged.nodes} edges={merged.edges} rootId={rootId} expanded={expanded} onExpand={onExpand} viewKey={`${start.kind}/${start.id}/${hops}/${dir}/${expandedList}`} />
          )
        }
      </Loaded>
      <Legend />
    </section>
  );
}

function Legend() {
  return (
    <div className="lineage-legend muted">
      {["dataset", "run", "model", "pipeline-run", "step", "external"].map((k) => (
        <span key={k} className={`legend kind-${k}`}>
          {k.replace("-", " ")}
        </span>
      ))}
    </div>
  );
}
