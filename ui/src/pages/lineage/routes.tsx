/** Lineage around any node; the graph page (React Flow) loads as its own chunk. */
import { Suspense, lazy } from "react";
import { Empty, Pending } from "../../components/feedback.js";
import { Link, type Route } from "../../router.js";
import type { StartKind } from "./lineage-links.js";

const LineagePage = lazy(() => import("./lineage-page.js").then((m) => ({ default: m.LineagePage })));

export const lineageRoutes: Route[] = [
  {
    path: "/lineage",
    render: () => (
      <Empty title="Lineage starts from something.">
        Open a <Link to="/datasets">dataset version</Link>, a run, a <Link to="/models">model version</Link> or a <Link to="/pipelines">pipeline run</Link> and follow
        its "Lineage" link.
      </Empty>
    ),
  },
  {
    path: "/lineage/:kind/:id",
    render: (p) => (
      <Suspense fallback={<Pending />}>
        <LineagePage start={{ kind: (p.kind ?? "") as StartKind, id: p.id ?? "" }} />
      </Suspense>
    ),
  },
];
