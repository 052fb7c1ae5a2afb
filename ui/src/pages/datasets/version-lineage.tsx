/**
 * Where a version came from and what was derived from it, one generation
 * each way (GetLineage, depth 1), and the link to the whole lineage graph:
 * /lineage/dataset/<name>@<version>, LineageService's node id
 * ("dataset:<name>@<version>") with its kind in the path instead, which is
 * how the lineage page (pages/lineage/lineage-links.ts) reads its start.
 */
import { useQuery } from "@connectrpc/connect-query";
import { type DatasetVersion, type DatasetVersionRef, DatasetService } from "@gen/traintrack/v1/dataset_pb.js";
import { Link, path } from "../../router.js";

/** Children shown at most; the graph page has the rest. */
const MAX_SHOWN = 20;

export function lineageStartId(name: string, version: string): string {
  return `${name}@${version}`;
}

export function Lineage({ dataset }: { dataset: DatasetVersion }) {
  const graph = useQuery(DatasetService.method.getLineage, { dataset: { name: dataset.name, version: dataset.version }, depth: 1, maxNodes: MAX_SHOWN + dataset.derivedFrom.length + 1 });
  const isThis = (r: DatasetVersionRef | undefined) => r?.name === dataset.name && r.version === dataset.version;
  const children = (graph.data?.edges ?? []).filter((e) => isThis(e.parent)).flatMap((e) => (e.child ? [e.child] : []));
  return (
    <div className="lineage-summary">
      <h2>Lineage</h2>
      <table className="kv">
        <tbody>
          <tr>
            <th>Derived from</th>
            <td>
              <Refs refs={dataset.derivedFrom} none="nothing recorded (an original dataset)" />
              {dataset.derivedFromCount > dataset.derivedFrom.length ? <span className="muted"> and {dataset.derivedFromCount - dataset.derivedFrom.length} more</span> : null}
            </td>
          </tr>
          <tr>
            <th>Derived into</th>
            <td>
              {graph.data ? <Refs refs={children} none="no version yet" /> : <span className="muted">…</span>}
              {graph.data?.truncated ? <span className="muted"> and more</span> : null}
            </td>
          </tr>
        </tbody>
      </table>
      <Link to={path`/lineage/dataset/${lineageStartId(dataset.name, dataset.version)}`}>Lineage graph: runs, models and pipelines around this version →</Link>
    </div>
  );
}

function Refs({ refs, none }: { refs: DatasetVersionRef[]; none: string }) {
  if (refs.length === 0) return <span className="muted">{none}</span>;
  return (
    <>
      {refs.map((r, i) => (
        <span key={`${r.name}@${r.version}`}>
          {i > 0 ? ", " : ""}
          <Link to={path`/datasets/${r.name}/${r.version}`}>
            {r.name} {r.version}
          </Link>
        </span>
      ))}
    </>
  );
}
