/**
 * Pipelines, a pipeline's runs, a run's DAG. The DAG page (React Flow) loads
 * as its own chunk, so the graph library is not part of the first load.
 */
import { Suspense, lazy } from "react";
import { Pending } from "../../components/feedback.js";
import type { Route } from "../../router.js";
import { PipelinePage } from "./pipeline-page.js";
import { PipelinesPage } from "./pipelines-page.js";

const PipelineRunPage = lazy(() => import("./pipeline-run-page.js").then((m) => ({ default: m.PipelineRunPage })));

export const pipelineRoutes: Route[] = [
  { path: "/pipelines", render: () => <PipelinesPage /> },
  { path: "/pipelines/:pipeline", render: (p) => <PipelinePage name={p.pipeline ?? ""} /> },
  {
    path: "/pipeline-runs/:runId",
    render: (p) => (
      <Suspense fallback={<Pending />}>
        <PipelineRunPage runId={p.runId ?? ""} />
      </Suspense>
    ),
  },
];
