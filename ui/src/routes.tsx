/** Every page of the UI and its URL: each area of pages lists its own routes. */
import { adminRoutes } from "./pages/admin/routes.js";
import { compareRoutes } from "./pages/compare/routes.js";
import { datasetRoutes } from "./pages/datasets/routes.js";
import { HomePage } from "./pages/home/home-page.js";
import { lineageRoutes } from "./pages/lineage/routes.js";
import { modelRoutes } from "./pages/models/routes.js";
import { pipelineRoutes } from "./pages/pipelines/routes.js";
import { singleRunRoutes } from "./pages/run/routes.js";
import { runRoutes } from "./pages/runs/routes.js";
import type { Route } from "./router.js";

export const routes: Route[] = [
  { path: "/", render: () => <HomePage /> },
  ...datasetRoutes,
  ...runRoutes,
  ...singleRunRoutes,
  ...compareRoutes,
  ...modelRoutes,
  ...pipelineRoutes,
  ...lineageRoutes,
  ...adminRoutes,
];
